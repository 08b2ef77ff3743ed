package convert_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/yoloarchive/yoloarchive/convert"
)

func TestShard_Partition(t *testing.T) {
	for _, n := range []int{1, 2, 3, 8, 64} {
		counts := make([]int, n)
		for i := 0; i < 2000; i++ {
			rel := fmt.Sprintf("project%d/runs/detect/train%d", i%7, i)
			in := 0
			for k := 1; k <= n; k++ {
				if (convert.Shard{K: k, N: n}).Has(rel) {
					in++
					counts[k-1]++
				}
			}
			if in != 1 {
				t.Fatalf("%s is in %d of %d shards", rel, in, n)
			}
		}
		for k, c := range counts {
			if c < 2000/n/2 {
				t.Errorf("shard %d/%d got %d of 2000 runs", k+1, n, c)
			}
		}
	}
	// The hash must never change: shards of a later yoloarchive must pick
	// the runs the earlier ones did (their ledgers say what they did).
	// Its first 8 bytes of sha256 are 3 mod 8: shard 4/8
	// (python3 -c "import hashlib; print(int.from_bytes(hashlib.sha256(b'runs/detect/train').digest()[:8], 'big') % 8 + 1)").
	if !(convert.Shard{K: 4, N: 8}).Has("runs/detect/train") {
		t.Error("runs/detect/train left shard 4/8")
	}
	if (convert.Shard{K: 1, N: 2}).Has("a/b") != (convert.Shard{K: 1, N: 2}).Has("a//b/") {
		t.Error("the same path written two ways falls into different shards")
	}
}

func TestParseShard(t *testing.T) {
	if s, err := convert.ParseShard("3/8"); err != nil || s != (convert.Shard{K: 3, N: 8}) {
		t.Errorf("3/8: %v, %v", s, err)
	}
	for _, bad := range []string{"0/8", "9/8", "3", "3/0", "a/b", "-1/2", ""} {
		if _, err := convert.ParseShard(bad); err == nil || !strings.Contains(err.Error(), "1 <= K <= N") {
			t.Errorf("%q: err = %v", bad, err)
		}
	}
}
