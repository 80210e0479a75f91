package main

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// binPath is the streamsql binary built once by TestMain for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "streamsql-cli-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "streamsql")
	gotool, err := osexec.LookPath("go")
	if err != nil {
		gotool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	build := osexec.Command(gotool, "build", "-o", binPath, ".")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building streamsql: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary with args and stdin, failing the test if it does not exit in 20 s.
func runCLI(t *testing.T, stdin string, args ...string) cliResult {
	t.Helper()
	cmd := osexec.Command(binPath, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_STATE_HOME=")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("streamsql %q did not finish in 20 s; stdout so far:\n%s", args, out.String())
	}
	code := 0
	if ee, ok := err.(*osexec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	res := cliResult{stdout: out.String(), stderr: errb.String(), code: code}
	for _, s := range []string{res.stdout, res.stderr} {
		if strings.Contains(s, "goroutine ") || strings.Contains(s, "panic:") {
			t.Fatalf("streamsql %q printed a stack trace:\n%s", args, s)
		}
	}
	return res
}

func writeScript(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "job.sql")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

const setupSQL = `CREATE TABLE items (k VARCHAR, n BIGINT, x DOUBLE, ok BOOLEAN);
INSERT INTO items VALUES ('b', 20, 0.5, true), ('a', 3, NULL, false), ('c', NULL, -1.25, NULL);
`

func TestRunTable(t *testing.T) {
	path := writeScript(t, setupSQL+"SELECT k, n, x, ok FROM items ORDER BY k;\nSELECT k FROM items WHERE n > 5;\n")
	res := runCLI(t, "", "run", "-f", path)
	if res.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	want := "" +
		"CREATE TABLE\n" +
		"INSERT 0 3\n" +
		" k |  n   |   x   |  ok\n" +
		"---+------+-------+-------\n" +
		" a |    3 |  NULL | false\n" +
		" b |   20 |   0.5 | true\n" +
		" c | NULL | -1.25 | NULL\n" +
		"(3 rows)\n" +
		"\n" +
		" k\n" +
		"---\n" +
		" b\n" +
		"(1 row)\n" +
		"\n"
	if res.stdout != want {
		t.Errorf("stdout\n got:\n%s\nwant:\n%s", res.stdout, want)
	}
	if res.stderr != "" {
		t.Errorf("unexpected stderr: %s", res.stderr)
	}
}

func TestRunStdin(t *testing.T) {
	res := runCLI(t, "SELECT 1 + 1 AS two;", "run", "-f", "-")
	if res.code != 0 || res.stdout != " two\n-----\n   2\n(1 row)\n\n" {
		t.Errorf("exit %d, stdout %q, stderr %q; want the one-row table", res.code, res.stdout, res.stderr)
	}
}

func TestRunSyntaxErrorStops(t *testing.T) {
	script := setupSQL + "\nSELECT k FROM items ORDER BY k;\nSELEC k FROM items;\nSELECT 'not reached' AS r;\n"
	path := writeScript(t, script)
	res := runCLI(t, "", "run", "-f", path)
	if res.code != 1 {
		t.Fatalf("exit %d, want 1; stderr:\n%s", res.code, res.stderr)
	}
	if !strings.HasPrefix(res.stderr, "ERROR: ") {
		t.Errorf("stderr does not start with \"ERROR: \":\n%s", res.stderr)
	}
	// The failing statement is the 4th, on line 5 of the file; the engine's position is in file
	// coordinates because the CLI pads each statement with the text before it.
	if !regexp.MustCompile(`line 5, column \d+`).MatchString(res.stderr) {
		t.Errorf("stderr lacks the file position \"line 5, column C\":\n%s", res.stderr)
	}
	if want := fmt.Sprintf("(statement 4 at %s:5)\n", path); !strings.HasSuffix(res.stderr, want) {
		t.Errorf("stderr does not end with %q:\n%s", want, res.stderr)
	}
	if !strings.Contains(res.stdout, "(3 rows)") || strings.Contains(res.stdout, "not reached") {
		t.Errorf("stdout should hold the statements before the error and none after:\n%s", res.stdout)
	}
}

func TestRunBindErrorNamesColumn(t *testing.T) {
	path := writeScript(t, setupSQL+"SELECT nosuch FROM items;\n")
	res := runCLI(t, "", "run", "-f", path, "--output", "csv")
	if res.code != 1 || !strings.HasPrefix(res.stderr, "ERROR: ") || !strings.Contains(res.stderr, "nosuch") ||
		!strings.Contains(res.stderr, "(statement 3 at ") {
		t.Errorf("exit %d, stderr:\n%s\nwant exit 1 and an ERROR naming column nosuch and statement 3", res.code, res.stderr)
	}
	if res.stdout != "" {
		t.Errorf("csv mode printed command output: %q", res.stdout)
	}
}

func TestRunCSV(t *testing.T) {
	path := writeScript(t, setupSQL+"SELECT k, n, x, ok FROM items ORDER BY k;\nSELECT 'say \"hi\", bye' AS s;\n")
	res := runCLI(t, "", "run", "-f", path, "--output=csv")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	sets := strings.Split(res.stdout, "\n\n")
	if len(sets) != 2 {
		t.Fatalf("want 2 CSV result sets separated by a blank line, got:\n%s", res.stdout)
	}
	want := [][][]string{
		{{"k", "n", "x", "ok"}, {"a", "3", "", "false"}, {"b", "20", "0.5", "true"}, {"c", "", "-1.25", ""}},
		{{"s"}, {`say "hi", bye`}},
	}
	for i, set := range sets {
		got, err := csv.NewReader(strings.NewReader(set)).ReadAll()
		if err != nil {
			t.Fatalf("set %d is not valid CSV: %v\n%s", i, err, set)
		}
		if !reflect.DeepEqual(got, want[i]) {
			t.Errorf("set %d = %q, want %q", i, got, want[i])
		}
	}
}

func TestRunJSON(t *testing.T) {
	path := writeScript(t, setupSQL+"SELECT k, n, x, ok FROM items ORDER BY k;\n")
	res := runCLI(t, "", "run", "-f", path, "--output", "json")
	if res.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	dec := json.NewDecoder(strings.NewReader(res.stdout))
	dec.UseNumber()
	var got []map[string]any
	for dec.More() {
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			t.Fatalf("invalid JSON: %v\n%s", err, res.stdout)
		}
		got = append(got, m)
	}
	want := []map[string]any{
		{"k": "a", "n": json.Number("3"), "x": nil, "ok": false},
		{"k": "b", "n": json.Number("20"), "x": json.Number("0.5"), "ok": true},
		{"k": "c", "n": nil, "x": json.Number("-1.25"), "ok": nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows = %v, want %v\nstdout:\n%s", got, want, res.stdout)
	}
	if lines := strings.Count(res.stdout, "\n"); lines != 3 {
		t.Errorf("want one JSON object per line (3 lines), got %d:\n%s", lines, res.stdout)
	}
}

func TestUsageErrors(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope.sql")
	cases := []struct {
		args []string
		want string // in stderr
	}{
		{[]string{"run"}, "missing -f FILE"},
		{[]string{"run", "-f", missing}, missing},
		{[]string{"run", "-f", "x.sql", "--output", "xml"}, `unknown output format "xml"`},
		{[]string{"run", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "-f", "x.sql", "extra"}, `unexpected argument "extra"`},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"repl", "--nope"}, "flag provided but not defined: -nope"},
	}
	for _, tc := range cases {
		res := runCLI(t, "", tc.args...)
		if res.code != 2 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("streamsql %q: exit %d, stderr:\n%s\nwant exit 2 and %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
	if res := runCLI(t, "", "run", "-f", missing); !strings.Contains(res.stderr, "no such file") {
		t.Errorf("missing file message should say why: %s", res.stderr)
	}
}

func TestHelpAndVersion(t *testing.T) {
	for _, arg := range []string{"help", "-h", "--help"} {
		res := runCLI(t, "", arg)
		if res.code != 0 {
			t.Errorf("%s: exit %d", arg, res.code)
		}
		for _, want := range []string{"streamsql run -f FILE.sql", "--output table|csv|json", "streamsql version", "--history FILE"} {
			if !strings.Contains(res.stdout, want) {
				t.Errorf("%s: usage lacks %q:\n%s", arg, want, res.stdout)
			}
		}
	}
	for _, arg := range []string{"version", "--version"} {
		res := runCLI(t, "", arg)
		if res.code != 0 || !regexp.MustCompile(`^streamsql \S+( \(revision [0-9a-f]+(, modified)?\))? \(go\d+\.\d+\S* \w+/\w+\)\n$`).MatchString(res.stdout) {
			t.Errorf("%s: exit %d, stdout %q", arg, res.code, res.stdout)
		}
	}
}

func TestPipedREPL(t *testing.T) {
	in := "SELECT 1;\n\\timing on\nCREATE TABLE p (a BIGINT);\nINSERT INTO p\n  VALUES (7), (8);\n\\d\nSELECT nosuch FROM p;\nSELECT SUM(a) AS s FROM p\n"
	res := runCLI(t, in)
	// The failing statement does not stop the REPL; the exit status reports it.
	if res.code != 1 {
		t.Errorf("exit %d, want 1 (one statement failed)", res.code)
	}
	if !strings.HasPrefix(res.stderr, "ERROR: ") || !strings.Contains(res.stderr, "nosuch") {
		t.Errorf("stderr:\n%s\nwant an ERROR naming nosuch", res.stderr)
	}
	timeLine := regexp.MustCompile(`(?m)^Time: \d+\.\d{3} ms$`)
	out := timeLine.ReplaceAllString(res.stdout, "Time: X ms")
	for _, want := range []string{
		"(1 row)\n\nTiming is on.\nCREATE TABLE\nTime: X ms\nINSERT 0 2\nTime: X ms\n",
		" table\n-------\n p\n(1 row)\n\n",
		" s\n----\n 15\n(1 row)\n\nTime: X ms\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

// TestQuickstartExample pins the output of examples/quickstart.sql (quoted in the README); the
// figures are checked by hand: buys are alice 10 + 2 and bob 8, carol's amount is 20 × 188.00, bob's
// 5 × 410.10 + 8 × 187.75, and the join groups bob (US) 5 + 8, alice (UK) 10 + 2, carol (FR) 20.
func TestQuickstartExample(t *testing.T) {
	res := runCLI(t, "", "run", "-f", filepath.Join("..", "..", "examples", "quickstart.sql"))
	if res.code != 0 {
		t.Fatalf("exit %d, stderr:\n%s", res.code, res.stderr)
	}
	want := `CREATE TABLE
INSERT 0 5
 side | orders | shares
------+--------+--------
 buy  |      3 |     20
 sell |      2 |     25
(2 rows)

 client | amount
--------+---------
 carol  | 3760.00
 bob    | 3552.50
 alice  | 2694.80
(3 rows)

 symbol |        hour         | shares
--------+---------------------+--------
 AAPL   | 2024-05-01 09:00:00 |     10
 MSFT   | 2024-05-01 09:00:00 |      5
 AAPL   | 2024-05-01 10:00:00 |     28
 MSFT   | 2024-05-01 10:00:00 |      2
(4 rows)

CREATE TABLE
INSERT 0 3
 country | orders | shares
---------+--------+--------
 FR      |      1 |     20
 US      |      2 |     13
 UK      |      2 |     12
(3 rows)

`
	if res.stdout != want {
		t.Errorf("stdout\n got:\n%s\nwant:\n%s", res.stdout, want)
	}
}
