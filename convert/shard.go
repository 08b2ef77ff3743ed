package convert

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
)

// Shard is share K of N (1 ≤ K ≤ N) of the runs a recursive capture finds,
// for spreading one capture over the tasks of a Slurm job array (capture
// --recursive ROOT --shard K/N). Every run belongs to exactly one share,
// decided by its path relative to the root it was found below, so that
// the shares are the same on every node and in every attempt.
type Shard struct{ K, N int }

// ParseShard reads "K/N".
func ParseShard(s string) (Shard, error) {
	ks, ns, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(ks)
	n, err2 := strconv.Atoi(ns)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 1 || k > n {
		return Shard{}, fmt.Errorf("--shard %q: want K/N with 1 <= K <= N, such as 3/8 (in a Slurm job array submitted with --array=1-8: --shard $SLURM_ARRAY_TASK_ID/8)", s)
	}
	return Shard{k, n}, nil
}

// Has reports whether the run at rel, its path relative to the root it
// was found below ("." for the root itself), belongs to the shard: the
// first 8 bytes of the sha256 of the slash-separated path, modulo N, are
// K-1.
func (s Shard) Has(rel string) bool {
	sum := sha256.Sum256([]byte(filepath.ToSlash(filepath.Clean(rel))))
	return int(binary.BigEndian.Uint64(sum[:8])%uint64(s.N)) == s.K-1
}

// String returns "K/N".
func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.K, s.N) }

// LedgerName is the shard's own ledger file name in the output directory,
// so that the shards of an array can share one directory.
func (s Shard) LedgerName() string {
	return fmt.Sprintf(".yoloarchive-ledger.shard-%d-of-%d.json", s.K, s.N)
}
