package chain

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/schemas"
)

// ErrBroken is wrapped by the errors of a chain whose links do not follow
// one another.
var ErrBroken = errors.New("broken chain")

const ext = ".tar.zst"

var seqRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^(.+)\.([0-9]{3,})\.tar\.zst$`) })

// LinkPath returns the file of link seq of the chain whose base name is
// base: "out/run.tar.zst" and 3 give "out/run.003.tar.zst".
func LinkPath(base string, seq int) string {
	return strings.TrimSuffix(base, ext) + fmt.Sprintf(".%03d", seq) + ext
}

// SplitLink is the inverse of [LinkPath]: it reports the base name and
// sequence number a link's file name encodes.
func SplitLink(path string) (base string, seq int, ok bool) {
	dir, name := filepath.Split(path)
	m := seqRe().FindStringSubmatch(name)
	if m == nil {
		return "", 0, false
	}
	n, err := strconv.Atoi(m[2])
	if err != nil {
		return "", 0, false
	}
	return filepath.Join(dir, m[1]+ext), n, true
}

// Files lists the links of base on disk in order, stopping before the first
// missing number; later numbered files are returned as orphans. Temporary
// files of a link being written never match.
func Files(base string) (links, orphans []string, err error) {
	dir := filepath.Dir(base)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	bySeq := map[int]string{}
	var seqs []int
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		b, seq, ok := SplitLink(p)
		if !ok || b != filepath.Join(dir, filepath.Base(base)) || !e.Type().IsRegular() {
			continue
		}
		if _, dup := bySeq[seq]; dup {
			return nil, nil, fmt.Errorf("%s: %w: two files for link %d (%s, %s): remove the wrong one", base, ErrBroken, seq, bySeq[seq], p)
		}
		bySeq[seq] = p
		seqs = append(seqs, seq)
	}
	sort.Ints(seqs)
	for i, s := range seqs {
		if s != i {
			for _, t := range seqs[i:] {
				orphans = append(orphans, bySeq[t])
			}
			break
		}
		links = append(links, bySeq[s])
	}
	return links, orphans, nil
}

// Chain is an opened chain whose links were each verified and checked to
// follow one another.
type Chain struct {
	// Base is the chain's base name ("out/run.tar.zst").
	Base string
	// Links are the opened links, in order.
	Links []*archive.Archive
	// deltas are each link's keyed tables; whole holds the run row,
	// summary and gaps of the links read so far (only the last link's
	// count, so the others are never read).
	deltas []*archive.Tables
	whole  map[int]*archive.Tables
	// Orphans are link files after a missing number, not read.
	Orphans []string
}

// Open opens and verifies every link of the chain named by base (or by any
// of its link files) and checks that each names its predecessor's digest,
// that all hold the same run, and that nothing follows a final link. The
// caller must Close the chain.
func Open(ctx context.Context, base string) (*Chain, error) {
	if b, _, ok := SplitLink(base); ok {
		base = b
	}
	paths, orphans, err := Files(base)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no chain links (%s): nothing was captured yet", base, filepath.Base(LinkPath(base, 0)))
	}
	c := &Chain{Base: base, Orphans: orphans}
	for _, p := range paths {
		if err := c.add(ctx, p); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func (c *Chain) add(ctx context.Context, p string) error {
	a, err := archive.Open(ctx, p)
	if err != nil {
		if !strings.Contains(err.Error(), p) {
			err = fmt.Errorf("%s: %w", p, err)
		}
		return err
	}
	seq := len(c.Links)
	l := a.Header.Chain
	var problem string
	switch {
	case l == nil:
		problem = "is a complete archive, not a chain link"
	case l.Seq != seq:
		problem = fmt.Sprintf("says it is link %d", l.Seq)
	case seq > 0 && l.Prev != c.Links[seq-1].Digest:
		problem = fmt.Sprintf("follows archive %.12s, but link %d is %.12s (links of two different captures mixed?)", l.Prev, seq-1, c.Links[seq-1].Digest)
	case seq > 0 && a.Header.RunID != c.Links[0].Header.RunID:
		problem = fmt.Sprintf("holds run %s, link 0 holds run %s", a.Header.RunID, c.Links[0].Header.RunID)
	case seq > 0 && c.Final():
		problem = fmt.Sprintf("follows the final link %d", seq-1)
	case seq > 0 && l.Options != c.Links[0].Header.Chain.Options:
		problem = fmt.Sprintf("was captured with options %q, link 0 with %q", l.Options, c.Links[0].Header.Chain.Options)
	}
	if problem != "" {
		a.Close()
		return fmt.Errorf("%s: %w: %s: keep links 0-%d and remove it and the links after it, or capture the run again", p, ErrBroken, problem, seq-1)
	}
	t, err := archive.LoadTables(ctx, a, keyed...)
	if err != nil {
		a.Close()
		return fmt.Errorf("%s: %w", p, err)
	}
	t.Info.SourceKind = a.Header.SourceKind
	c.Links = append(c.Links, a)
	c.deltas = append(c.deltas, t)
	return nil
}

// Close closes every link.
func (c *Chain) Close() error {
	for _, a := range c.Links {
		a.Close()
	}
	return nil
}

// RunID returns the chain's run id.
func (c *Chain) RunID() string { return c.Links[0].Header.RunID }

// Final reports whether the chain's last link is final.
func (c *Chain) Final() bool {
	return len(c.Links) > 0 && c.Links[len(c.Links)-1].Header.Chain.Final
}

// Head returns the digest of the last link.
func (c *Chain) Head() string { return c.Links[len(c.Links)-1].Digest }

// Digests returns every link's archive digest, in order.
func (c *Chain) Digests() []string {
	out := make([]string, len(c.Links))
	for i, a := range c.Links {
		out[i] = a.Digest
	}
	return out
}

// Merged returns the tables of the first n links merged (n ≤ 0 or beyond
// the chain means all of them).
func (c *Chain) Merged(ctx context.Context, n int) (*archive.Tables, error) {
	if n <= 0 || n > len(c.deltas) {
		n = len(c.deltas)
	}
	last, ok := c.whole[n-1]
	if !ok {
		var err error
		if last, err = archive.LoadTables(ctx, c.Links[n-1], whole...); err != nil {
			return nil, fmt.Errorf("%s: %w", c.Links[n-1].Path, err)
		}
		if c.whole == nil {
			c.whole = map[int]*archive.Tables{}
		}
		c.whole[n-1] = last
	}
	m := &archive.Tables{Info: c.deltas[0].Info}
	for _, d := range c.deltas[:n] {
		Apply(m, d)
	}
	m.Info = last.Info
	m.Summary = append([]schemas.SummaryRow(nil), last.Summary...)
	m.Gaps = append([]schemas.GapRow(nil), last.Gaps...)
	normalize(m)
	return m, nil
}

// Archive returns the link that stores the blob, nil if none does.
func (c *Chain) Archive(digest string) *archive.Archive {
	for _, a := range c.Links {
		for _, e := range a.Manifest.Entries {
			if e.Path == archive.BlobPath(digest) {
				return a
			}
		}
	}
	return nil
}

// Group keeps the first of each chain's link files among paths and drops
// the others, so that a chain given as run.*.tar.zst is handled once, as
// one run (by sync and export). When a complete archive of the same run
// is given too (a compaction beside the links, a capture of the run
// directory), one run must not be synced or exported twice at once: a
// final chain is kept and the archive dropped; an unfinished chain is
// dropped for the archive, which is at least as recent. notes say what
// was dropped. Other paths are kept.
func Group(paths []string) (out, notes []string) {
	type linked struct {
		first string
		final bool
		base  string
	}
	chains := map[string]*linked{} // run id → its chain
	byBase := map[string]bool{}
	heads := map[string]schemas.Header{}
	bases := map[string]string{} // a chain's link or base name → its base
	for _, p := range paths {
		t, err := Resolve(p)
		if err != nil {
			continue
		}
		hp := p
		if t.Chain && t.Path == p && len(t.Links) > 0 {
			hp = t.Links[0] // a chain's base name: its first link tells the run
		}
		h, err := archive.ReadHeader(hp)
		if err != nil {
			continue
		}
		heads[p] = h
		if !t.Chain {
			continue
		}
		base := t.Path
		bases[p] = base
		if byBase[base] {
			continue
		}
		byBase[base] = true
		final := false
		if len(t.Links) > 0 {
			if lh, err := archive.ReadHeader(t.Links[len(t.Links)-1]); err == nil && lh.Chain != nil {
				final = lh.Chain.Final
			}
		}
		if _, dup := chains[h.RunID]; !dup {
			chains[h.RunID] = &linked{first: p, final: final, base: base}
		}
	}
	dropChain := map[string]bool{}
	dropped := map[string]bool{}
	for _, p := range paths {
		h, ok := heads[p]
		if !ok || h.Chain != nil {
			continue
		}
		c, ok := chains[h.RunID]
		if !ok {
			continue
		}
		if c.final {
			dropped[p] = true
			notes = append(notes, fmt.Sprintf("%s: skipped: it holds run %s, whose final chain (%s) is taken instead", p, h.RunID, c.first))
		} else if !dropChain[c.base] {
			dropChain[c.base] = true
			notes = append(notes, fmt.Sprintf("%s: skipped: its run %s has no final link yet; %s is taken instead", c.first, h.RunID, p))
		}
	}
	seen := map[string]bool{}
	for _, p := range paths {
		if dropped[p] || seen[p] {
			continue
		}
		if base, ok := bases[p]; ok {
			if dropChain[base] || seen[base] {
				continue
			}
			seen[base] = true
		}
		seen[p] = true
		out = append(out, p)
	}
	return out, notes
}
