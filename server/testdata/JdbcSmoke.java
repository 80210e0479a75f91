import java.math.BigDecimal;
import java.sql.*;

// JdbcSmoke runs statements through the PostgreSQL JDBC driver against a streamsql server and
// prints what it reads back; server/clients_test.go compares the output.
public class JdbcSmoke {
    public static void main(String[] args) throws Exception {
        try (Connection c = DriverManager.getConnection(args[0], "jdbc", "")) {
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE j (id BIGINT, name VARCHAR, price DECIMAL(10,2), at TIMESTAMP, ok BOOLEAN, x DOUBLE)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO j VALUES (?, ?, ?, ?, ?, ?)")) {
                for (int i = 1; i <= 3; i++) {
                    ps.setLong(1, i);
                    ps.setString(2, "n'" + i);
                    ps.setBigDecimal(3, new BigDecimal(i + ".25"));
                    ps.setTimestamp(4, Timestamp.valueOf("2024-05-0" + i + " 10:00:00"));
                    ps.setBoolean(5, i % 2 == 0);
                    ps.setDouble(6, i / 4.0);
                    System.out.println("insert " + ps.executeUpdate());
                }
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT id, name, price, at, ok, x FROM j WHERE id >= ? ORDER BY id")) {
                ps.setInt(1, 2);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        System.out.println(rs.getLong(1) + "|" + rs.getString(2) + "|" + rs.getBigDecimal(3) + "|"
                            + rs.getTimestamp(4) + "|" + rs.getString(5) + "=" + rs.getBoolean(5) + "|" + rs.getDouble(6));
                    }
                }
            }
            try (Statement st = c.createStatement()) {
                st.executeQuery("SELECT 1/0");
            } catch (SQLException e) {
                System.out.println("error " + e.getSQLState());
            }
            // Date and timestamp parameters: the driver sends them as text with the JVM's zone
            // offset ("2024-02-03 +05:30"), which date and timestamp ignore, as PostgreSQL does.
            try (Statement st = c.createStatement()) {
                st.execute("CREATE TABLE jd (d DATE, ts TIMESTAMP)");
            }
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO jd VALUES (?, ?)")) {
                ps.setDate(1, java.sql.Date.valueOf("2024-02-03"));
                ps.setTimestamp(2, Timestamp.valueOf("2024-02-03 04:05:06.789"));
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT d, ts FROM jd WHERE d = ? AND ts < ?")) {
                ps.setDate(1, java.sql.Date.valueOf("2024-02-03"));
                ps.setTimestamp(2, Timestamp.valueOf("2024-02-03 05:00:00"));
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        System.out.println("date " + rs.getDate(1) + " " + rs.getTimestamp(2));
                    }
                }
            }
            // A fetch-size cursor: autocommit off makes the driver open a block and read the
            // result through a named portal, two rows per Execute.
            c.setAutoCommit(false);
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM j WHERE id > ? ORDER BY id")) {
                ps.setFetchSize(2);
                ps.setLong(1, 0);
                StringBuilder ids = new StringBuilder();
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        ids.append(rs.getLong(1)).append(' ');
                    }
                }
                System.out.println("cursor " + ids.toString().trim());
            }
            Savepoint sp = c.setSavepoint("before");
            c.rollback(sp);
            c.rollback(); // only reads happened: accepted
            c.setAutoCommit(true);
            DatabaseMetaData md = c.getMetaData();
            System.out.println("server " + md.getDatabaseProductVersion() + " major " + md.getDatabaseMajorVersion() + " minor " + md.getDatabaseMinorVersion());
        }
    }
}
