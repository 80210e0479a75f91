package streamsql

import (
	"os/exec"
	"strings"
	"testing"
)

// layers lists, for each package of the module, the packages of the module it may import (directly
// or not), following the dependency direction in DESIGN.md. A package missing here fails the test,
// so a new package has to be placed in the layering on purpose.
var layers = map[string][]string{
	"watermark":          {},
	"exec":               {"watermark"},
	"state":              {},
	"sources":            {"exec", "watermark", "internal/redact"},
	"sinks":              {"exec", "watermark", "state", "internal/redact"},
	"planner":            {"exec", "watermark"},
	"sql":                {"planner", "exec", "watermark"},
	"pgcatalog":          {"exec", "watermark"},
	"incremental":        {"planner", "exec", "state", "watermark", "sources", "sinks", "internal/redact"},
	"":                   {"pgcatalog", "sql", "planner", "exec", "watermark", "state", "sources", "sinks", "incremental", "internal/redact"},
	"server":             {"", "pgcatalog", "sql", "planner", "exec", "watermark", "state", "sources", "sinks", "incremental", "internal/redact"},
	"bench/nexmark":      {},
	"web":                {},
	"cmd/streamsql":      {"web", "bench/nexmark", "", "pgcatalog", "server", "sql", "planner", "exec", "watermark", "state", "sources", "sinks", "incremental", "internal/benchutil", "internal/redact"},
	"streamtest":         {"", "pgcatalog", "sql", "planner", "exec", "watermark", "state", "sources", "sinks", "incremental", "internal/redact"},
	"internal/testdb":    {},
	"internal/benchutil": {},
	"internal/kafkatest": {},
	"internal/redact":    {},
	"conformance":        {"*"},
	"crashtest":          {"*"},
}

const module = "github.com/streamsql/streamsql"

func TestImportsFollowTheLayering(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Deps " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		rel := strings.TrimPrefix(strings.TrimPrefix(pkg, module), "/")
		allowed, known := layers[rel]
		if !known {
			t.Errorf("package %q is not placed in the layering; add it to layers in layering_test.go", pkg)
			continue
		}
		ok := map[string]bool{}
		for _, a := range allowed {
			ok[a] = true
		}
		for _, d := range strings.Fields(deps) {
			if d != module && !strings.HasPrefix(d, module+"/") {
				continue
			}
			drel := strings.TrimPrefix(strings.TrimPrefix(d, module), "/")
			if !ok[drel] && !ok["*"] {
				t.Errorf("%s imports %s, against the dependency direction in DESIGN.md", pkg, d)
			}
		}
	}
}
