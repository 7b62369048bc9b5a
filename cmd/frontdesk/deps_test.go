package main

import (
	"os/exec"
	"path"
	"strings"
	"testing"
)

// testCodeAllowed are packages named like test code that the binary may
// link, each for a reason:
var testCodeAllowed = map[string]string{
	// The runtime's support for testing/synctest: every Go program that
	// imports time links it.
	"internal/synctest": "standard library runtime support",
	// protoactor-go's in-memory cluster provider, which cluster uses for
	// the one-member cluster of the embedded mode; it does not link
	// testing (checked below like everything else).
	"github.com/asynkron/protoactor-go/cluster/clusterproviders/test": "single-member cluster provider",
}

// TestDepsBinaryLinksNoTestCode holds the rule "the binary never links
// testing": the frontdesk command's dependencies include neither the
// testing packages nor net/http/httptest nor any package of test helpers
// (…test, such as whatsapptest), apart from testCodeAllowed.
// `frontdesk demo-message` signs with channels/whatsapp, not whatsapptest.
func TestDepsBinaryLinksNoTestCode(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to list dependencies")
	}
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list -deps: %v\n%s", err, stderr)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 10 {
		t.Fatalf("go list -deps listed only %v", deps)
	}
	for _, p := range deps {
		if _, ok := testCodeAllowed[p]; ok {
			continue
		}
		if p == "testing" || strings.HasPrefix(p, "testing/") || strings.HasSuffix(path.Base(p), "test") {
			t.Errorf("the frontdesk binary links %s: move what it needs out of the test package", p)
		}
	}
}
