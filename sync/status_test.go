package sync

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// saved writes a checkpoint the way a sync does and returns it as
// Checkpoints reads it.
func saved(t *testing.T, st *Store, dest, runID string, edit func(*State)) Checkpoint {
	t.Helper()
	s, err := st.Load(dest, runID)
	if err != nil {
		t.Fatal(err)
	}
	edit(s)
	if err := s.Save(); err != nil {
		t.Fatal(err)
	}
	cps, err := st.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cps {
		if c.State != nil && c.State.RunID == runID && c.State.Destination == dest {
			return c
		}
	}
	t.Fatal("checkpoint not listed")
	return Checkpoint{}
}

func TestCheckOf(t *testing.T) {
	st := &Store{Dir: t.TempDir()}
	const run = "00112233445566778899aabbccddeeff"
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	synced := func(archive string, chain ...string) func(*State) {
		return func(s *State) {
			s.Archive, s.Chain, s.Synced, s.SyncedAt, s.RemoteID, s.URL = archive, chain, true, at, "task1", "http://web/task1"
			s.SetPath("run.tar.zst")
		}
	}
	for _, tc := range []struct {
		name  string
		state func(*State)
		a     *ArchiveState
		want  string
	}{
		{"synced", synced("d1"), &ArchiveState{Digest: "d1"}, StandingSynced},
		{"another capture", synced("d1"), &ArchiveState{Digest: "d2"}, StandingOutOfDate},
		{"chain final", synced("l2", "l0", "l1", "l2"), &ArchiveState{Digest: "l2", Links: []string{"l0", "l1", "l2"}, Final: true}, StandingSynced},
		{"chain training", synced("l1", "l0", "l1"), &ArchiveState{Digest: "l1", Links: []string{"l0", "l1"}}, StandingPartial},
		{"chain with new links", synced("l1", "l0", "l1"), &ArchiveState{Digest: "l2", Links: []string{"l0", "l1", "l2"}}, StandingOutOfDate},
		{"chain behind", synced("l2", "l0", "l1", "l2"), &ArchiveState{Digest: "l1", Links: []string{"l0", "l1"}}, StandingBehind},
		{"chain recaptured", synced("l1", "l0", "l1"), &ArchiveState{Digest: "m1", Links: []string{"m0", "m1"}}, StandingOutOfDate},
		{"interrupted", func(s *State) { s.Archive, s.Done = "d1", map[string]bool{"create": true} }, &ArchiveState{Digest: "d1"}, StandingFailed},
	} {
		dest := "clearml:http://api/" + tc.name
		c := saved(t, st, dest, run, tc.state)
		got := StandingOf(c, tc.a)
		if got.Status != tc.want {
			t.Errorf("%s: %s (%s), want %s", tc.name, got.Status, got.Detail, tc.want)
		}
		if got.Destination != dest || got.RunID != run {
			t.Errorf("%s: %+v", tc.name, got)
		}
		if tc.want != StandingFailed && (got.RemoteID != "task1" || got.URL == "" || got.SyncedAt == nil || !got.SyncedAt.Equal(at)) {
			t.Errorf("%s: remote or time missing: %+v", tc.name, got)
		}
	}

	// A sync holding the lock is reported as running.
	c := saved(t, st, "comet:x", run, synced("d1"))
	unlock, err := st.Lock("comet:x", run)
	if err != nil {
		t.Fatal(err)
	}
	if got := StandingOf(c, nil); got.Status != StandingSyncing {
		t.Errorf("locked: %s", got.Status)
	}
	unlock()
	if got := StandingOf(c, nil); got.Status != StandingSynced {
		t.Errorf("unlocked: %s", got.Status)
	}

	// A damaged checkpoint is listed, not fatal.
	bad := filepath.Join(st.Dir, "sync", run+"-000000000000.json")
	os.WriteFile(bad, []byte("{"), 0o644)
	cps, err := st.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	damaged := 0
	for _, c := range cps {
		if StandingOf(c, nil).Status == StandingDamaged {
			damaged++
		}
	}
	if damaged != 1 {
		t.Errorf("%d damaged checkpoints, want 1", damaged)
	}
}

// TestClean removes the checkpoints of archives that are gone and locks
// nobody holds, keeps the rest, and a sync that locks meanwhile still
// holds a real lock.
func TestClean(t *testing.T) {
	st := &Store{Dir: t.TempDir()}
	dir := t.TempDir()
	kept, gone := filepath.Join(dir, "kept.tar.zst"), filepath.Join(dir, "gone.tar.zst")
	os.WriteFile(kept, []byte("x"), 0o644)
	const a, b, c, d = "aa112233445566778899aabbccddeeff", "bb112233445566778899aabbccddeeff", "cc112233445566778899aabbccddeeff", "dd112233445566778899aabbccddeeff"
	saved(t, st, "clearml:x", a, func(s *State) { s.SetPath(kept); s.Synced = true })
	goneCP := saved(t, st, "clearml:x", b, func(s *State) { s.SetPath(gone); s.Synced = true })
	saved(t, st, "clearml:x", c, func(s *State) { s.Synced = true }) // before paths were recorded
	// A chain's base name whose links exist is not gone.
	base := filepath.Join(dir, "chain.tar.zst")
	os.WriteFile(filepath.Join(dir, "chain.000.tar.zst"), []byte("x"), 0o644)
	saved(t, st, "clearml:x", d, func(s *State) { s.SetPath(base); s.Synced = true })
	// Locks: one left by a finished sync, one held now (of the gone
	// archive: its checkpoint stays while a sync runs).
	unlock, err := st.Lock("clearml:x", a)
	if err != nil {
		t.Fatal(err)
	}
	unlock()
	unlockB, err := st.Lock("clearml:x", b)
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Clean()
	if err != nil {
		t.Fatal(err)
	}
	if len(res.States) != 0 || len(res.Locks) != 1 || len(res.Kept) != 1 {
		t.Errorf("while a sync holds b's lock: %+v", res)
	}
	unlockB()
	res, err = st.Clean()
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.States, []string{goneCP.File}) || !slices.Equal(res.Locks, []string{goneCP.Lock}) {
		t.Errorf("after: %+v", res)
	}
	cps, _ := st.Checkpoints()
	if len(cps) != 3 {
		t.Errorf("%d checkpoints left, want 3", len(cps))
	}
	// Locking still works after its file was removed, and excludes.
	unlock, err = st.Lock("clearml:x", b)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	if _, err := st.Lock("clearml:x", b); err == nil {
		t.Error("two locks on one run")
	}
}
