package convert_test

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

// planRuns writes runs with the detect fixture's settings and first row,
// named a to e below one folder:
//
//	a: rows 1-3
//	b: a copy of a
//	c: rows 1-2 of a, then another row 3 (a deterministic retraining
//	   that diverged at epoch 3)
//	d: rows 1 of a, then another row 2
//	e: row 1 only (a copy taken after the first epoch)
func planRuns(t *testing.T) map[string]string {
	t.Helper()
	root := t.TempDir()
	src := settingsOnly(t, fixtures+"/detect")
	dirs := map[string]string{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		dirs[n] = filepath.Join(root, n)
		if err := os.CopyFS(dirs[n], os.DirFS(src)); err != nil {
			t.Fatal(err)
		}
	}
	setField(t, dirs["c"], 2, 3, "0.777")
	setField(t, dirs["d"], 1, 3, "0.888")
	keepRows(t, dirs["e"], 1)
	return dirs
}

func evidence(t *testing.T, dirs map[string]string, names ...string) []*convert.Evidence {
	t.Helper()
	var evs []*convert.Evidence
	for _, n := range names {
		ev, err := convert.ReadEvidence(dirs[n])
		if err != nil || ev == nil {
			t.Fatalf("%s: %v", n, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestPlan: copies and earlier looks of a run are one run, archived once
// (the most complete look); runs that only share their start are each
// archived under an id of their own; the plan does not depend on the
// order the sources come in.
func TestPlan(t *testing.T) {
	dirs := planRuns(t)
	evs := evidence(t, dirs, "a", "b", "c", "d", "e")
	shared := evs[0].RunID
	for _, e := range evs {
		if e.RunID != shared {
			t.Fatalf("the runs do not share their derived id: %s, %s", e.RunID, shared)
		}
	}
	plan := convert.Plan(evs, nil)
	want := map[string]string{"b": dirs["a"], "e": dirs["a"]} // SameAs
	ids := map[string]bool{}
	for n, dir := range dirs {
		d := plan[dir]
		if d.SameAs != want[n] || d.Derived != shared {
			t.Errorf("%s: %+v, want same as %q", n, d, want[n])
		}
		if d.SameAs == "" {
			ids[d.RunID] = true
		}
	}
	if len(ids) != 3 || plan[dirs["a"]].RunID != shared || plan[dirs["c"]].Like != dirs["a"] || plan[dirs["d"]].Like != dirs["a"] {
		t.Errorf("archived runs a, c, d: %+v %+v %+v", plan[dirs["a"]], plan[dirs["c"]], plan[dirs["d"]])
	}
	for seed := int64(0); seed < 5; seed++ {
		shuffled := append([]*convert.Evidence(nil), evs...)
		rand.New(rand.NewSource(seed)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		again := convert.Plan(shuffled, nil)
		for dir, d := range plan {
			if again[dir] != d {
				t.Errorf("order %d: %s: %+v, first %+v", seed, dir, again[dir], d)
			}
		}
	}

	// A source given twice is not the same run as itself.
	if twice := convert.Plan(evidence(t, dirs, "a", "a"), nil); twice[dirs["a"]].SameAs != "" {
		t.Errorf("a given twice: %+v", twice[dirs["a"]])
	}

	// A run that grows keeps its forked id; c, captured alone, has the
	// shared id.
	setField(t, dirs["d"], 1, 4, "0.5")
	later := convert.Plan(evidence(t, dirs, "a", "c", "d"), nil)
	if later[dirs["c"]].RunID != plan[dirs["c"]].RunID {
		t.Errorf("c's forked id changed when d did")
	}
	if alone := convert.Plan(evidence(t, dirs, "c"), nil); alone[dirs["c"]].RunID != shared {
		t.Errorf("c alone: %+v", alone[dirs["c"]])
	}
}

// TestPlan_Kept: the run already archived under the shared id (the
// ledger says so) keeps it, and of two copies the archived one is kept.
func TestPlan_Kept(t *testing.T) {
	dirs := planRuns(t)
	evs := evidence(t, dirs, "a", "b", "c")
	shared := evs[0].RunID
	keptOnly := func(name string) func(src, id string) bool {
		return func(src, id string) bool { return id == shared && src == dirs[name] }
	}
	plan := convert.Plan(evs, keptOnly("c"))
	if d := plan[dirs["c"]]; d.RunID != shared || d.SameAs != "" {
		t.Errorf("c: %+v, want the shared id", d)
	}
	if d := plan[dirs["a"]]; d.RunID == shared || d.Like != dirs["c"] || d.SameAs != "" {
		t.Errorf("a: %+v, want a forked id", d)
	}
	if d := plan[dirs["b"]]; d.SameAs != dirs["a"] || d.RunID != plan[dirs["a"]].RunID {
		t.Errorf("b: %+v, want the same as a", d)
	}
	plan = convert.Plan(evs, keptOnly("b"))
	if d := plan[dirs["a"]]; d.SameAs != dirs["b"] || d.RunID != shared {
		t.Errorf("a: %+v, want the same as b (archived)", d)
	}
}

// TestPlan_Assign: a capture archives a run under the id its plan chose,
// unless the run changed since.
func TestPlan_Assign(t *testing.T) {
	dirs := planRuns(t)
	plan := convert.Plan(evidence(t, dirs, "a", "c"), nil)
	d := plan[dirs["c"]]
	r, err := convert.Read(context.Background(), dirs["c"], convert.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !r.Assign(d) || r.Info.RunID != d.RunID || d.RunID == d.Derived {
		t.Errorf("assigned id %s, plan %+v", r.Info.RunID, d)
	}
	setField(t, dirs["a"], 0, 3, "0.999")
	r2, err := convert.Read(context.Background(), dirs["a"], convert.Options{Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer r2.Close()
	if r2.Assign(plan[dirs["a"]]) {
		t.Error("a run whose first row changed took the plan's id")
	}
}
