import java.sql.*;

// Prints what java.sql.DatabaseMetaData reports about a streamsql server (run by TestJDBCMetadata):
// one line per row, the columns a client such as DBeaver or DataGrip shows.
public class JdbcMetadata {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], "tester", "")) {
            DatabaseMetaData md = c.getMetaData();
            System.out.println("product " + md.getDatabaseProductName() + " " + md.getDatabaseMajorVersion());
            try (ResultSet rs = md.getSchemas()) {
                while (rs.next()) System.out.println("schema " + rs.getString("TABLE_SCHEM"));
            }
            try (ResultSet rs = md.getTables(null, "public", "%", null)) {
                while (rs.next()) System.out.println("table " + rs.getString("TABLE_NAME") + " " + rs.getString("TABLE_TYPE") + " " + rs.getString("REMARKS"));
            }
            try (ResultSet rs = md.getTables(null, null, "tick%", new String[]{"VIEW"})) {
                while (rs.next()) System.out.println("view " + rs.getString("TABLE_NAME"));
            }
            try (ResultSet rs = md.getColumns(null, "public", "trades", "%")) {
                while (rs.next()) System.out.println("column " + rs.getString("TABLE_NAME") + "." + rs.getString("COLUMN_NAME") + " " + rs.getString("TYPE_NAME") + " " + rs.getInt("DATA_TYPE") + " " + rs.getInt("ORDINAL_POSITION") + " " + rs.getString("IS_NULLABLE"));
            }
            try (ResultSet rs = md.getPrimaryKeys(null, "public", "trades")) {
                int n = 0;
                while (rs.next()) n++;
                System.out.println("primary keys " + n);
            }
            try (ResultSet rs = md.getTypeInfo()) {
                StringBuilder sb = new StringBuilder();
                while (rs.next()) {
                    String t = rs.getString("TYPE_NAME");
                    if (t.equals("int8") || t.equals("varchar") || t.equals("numeric") || t.equals("timestamp") || t.equals("bool"))
                        sb.append(" ").append(t).append("=").append(rs.getInt("DATA_TYPE"));
                }
                System.out.println("types" + sb);
            }
        }
    }
}
