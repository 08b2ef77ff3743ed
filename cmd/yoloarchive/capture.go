package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/yoloarchive/yoloarchive/archive"
	"github.com/yoloarchive/yoloarchive/convert"
	_ "github.com/yoloarchive/yoloarchive/convert/clearmlsession" // capture of ClearML offline sessions
	_ "github.com/yoloarchive/yoloarchive/convert/cometsession"   // capture of Comet offline experiments
	_ "github.com/yoloarchive/yoloarchive/convert/mlflowrun"      // capture of an MLflow file store's runs
	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/vision/contours"
)

// CaptureCmd is `yoloarchive capture`.
type CaptureCmd struct {
	Src           []string `arg:"" name:"SRC" help:"Run directories to capture (with --recursive: folders to search for runs)."`
	Out           string   `short:"o" aliases:"output" placeholder:"PATH" help:"Where to write: FILE.tar.zst (a single SRC), or a directory (one that exists, or PATH ending in /) for archives named <name>-<run id>.tar.zst, with a ledger of the runs captured there (default: the current directory, without a ledger)."`
	OutDir        string   `hidden:"" placeholder:"DIR" help:"The directory of -o DIR (the old spelling)."`
	Recursive     bool     `short:"r" help:"Capture every run found below each SRC."`
	Shard         string   `placeholder:"K/N" help:"With --recursive: capture only share K of N (1 <= K <= N) of the runs, picked by a hash of each run's path relative to its SRC, with a ledger of its own (a Slurm job array submitted with --array=1-N: --shard $SLURM_ARRAY_TASK_ID/N)."`
	NoWeights     bool     `help:"Leave weights/best.pt and weights/last.pt out."`
	AllWeights    bool     `help:"Also store periodic checkpoints weights/epoch*.pt."`
	Data          string   `placeholder:"DATA.yaml" help:"Dataset yaml for class names, ground truth and the training image count (default: the run's data setting)."`
	DatasetImages int      `default:"500" placeholder:"N" help:"Store at most N validation images referenced by predictions.json (0: none)."`
	SkipBadMasks  bool     `help:"Capture a predictions.json whose masks do not all decode, without those masks' polygons (recorded as a gap)."`
	NoPolygons    bool     `help:"Keep segmentation masks as COCO RLE without their polygons (recorded as a gap): no need for the yoloarchive-contours helper and OpenCV."`
	Jobs          int      `short:"j" default:"0" placeholder:"N" help:"Runs to capture in parallel (default: number of CPUs, at most 4)."`
	JSON          bool     `help:"Print one JSON object per run on stdout."`

	file     string // the archive to write, from -o FILE.tar.zst
	dir      string // the directory to write to, from -o DIR
	ledger   *convert.Ledger
	contours *contours.Helper // started when the first mask needs polygons
	shard    *convert.Shard   // from --shard
	optsKey  string
	seenMu   sync.Mutex
	seen     map[string]string // run id → the source captured for it in this batch
	plan     map[string]convert.Decision
	Force    bool     `help:"With -o DIR: capture runs again even when the ledger says they have not changed."`
	Session  []string `placeholder:"PATH" help:"A ClearML offline session (folder or zip), Comet offline zip or MLflow store run folder of the run, merged into its archive (a single SRC only; repeatable: the sessions of a resumed run, in order; SRC may itself be the first session)."`

	Follow  bool          `help:"Watch SRC, a run directory still training, and write a chain of delta archives (NAME.000.tar.zst, NAME.001.tar.zst, ...) until training ends."`
	Every   time.Duration `default:"60s" placeholder:"DURATION" help:"With --follow: how often to look."`
	Settle  time.Duration `default:"2s" placeholder:"DURATION" help:"With --follow: how long a file must be left alone before it is stored."`
	Once    bool          `help:"With --follow: look once, add a link if anything is new, and exit (for cron)."`
	Compact bool          `help:"SRC is a chain (a link, or the chain's NAME.tar.zst): write it as one complete archive (default: NAME.tar.zst)."`
}

// Help is shown by --help.
func (c *CaptureCmd) Help() string {
	return `SRC is an Ultralytics or YOLOv5 run directory, a ClearML offline session (its
offline-<id> folder or zip), a Comet offline experiment zip, or a run of an MLflow
file store (runs/mlflow/<experiment>/<run>, which Ultralytics writes when no
MLFLOW_TRACKING_URI is set; -r runs/mlflow captures every run); --session merges a
run directory's session into its archive, and an MLflow run whose save_dir is a run
directory beside the store is merged into that directory's archive.

Each run becomes one archive: Parquet tables of scalars, settings, summary values,
images, annotations and assets, plus the image and weight files, verified by sha256.
Archives are written to a temporary file and renamed into place: a failed or
interrupted capture leaves nothing behind. One bad run never stops the others.

` + exitCodesHelp
}

// Validate checks flag combinations.
func (c *CaptureCmd) Validate() error {
	if err := c.outputs(); err != nil {
		return err
	}
	if c.Shard != "" {
		if !c.Recursive || c.dir == "" {
			return errors.New("--shard splits a recursive capture: use it with --recursive and -o DIR")
		}
		s, err := convert.ParseShard(c.Shard)
		if err != nil {
			return err
		}
		c.shard = &s
	}
	if len(c.Session) > 0 && (len(c.Src) != 1 || c.Recursive) {
		return errors.New("--session enriches one run: use it with a single SRC, without --recursive")
	}
	if (c.Follow || c.Compact) && (len(c.Src) != 1 || c.Recursive || len(c.Session) > 0) {
		return errors.New("--follow and --compact take a single SRC, without --recursive or --session")
	}
	if c.Follow && c.Compact {
		return errors.New("--follow writes a chain and --compact joins one: use one at a time")
	}
	if (c.Once || c.Every != time.Minute || c.Settle != 2*time.Second) && !c.Follow {
		return errors.New("--every, --settle and --once go with --follow")
	}
	if c.Every < time.Second {
		return errors.New("--every must be at least 1s")
	}
	return nil
}

// outputs sets c.file or c.dir from -o (or the old --out-dir): an
// archive's name ends in .tar.zst; a directory exists, ends in /, or is
// where a batch goes. Anything else is refused rather than guessed.
func (c *CaptureCmd) outputs() error {
	batch := len(c.Src) > 1 || c.Recursive
	switch {
	case c.OutDir != "" && c.Out != "":
		return errors.New("-o and --out-dir both name where to write: use -o alone")
	case c.OutDir != "":
		c.dir = c.OutDir
	case c.Out == "":
	case strings.HasSuffix(c.Out, ".tar.zst"):
		if batch {
			return fmt.Errorf("-o %s names one archive: use it with a single SRC, without --recursive (or give a directory)", c.Out)
		}
		c.file = c.Out
	case batch || strings.HasSuffix(c.Out, string(filepath.Separator)) || dirExists(c.Out):
		c.dir = c.Out
	default:
		return fmt.Errorf("-o %s: name the archive FILE.tar.zst, or a directory (one that exists, or end it with /)", c.Out)
	}
	return nil
}

// captureReport is the JSON line printed per run with --json.
type captureReport struct {
	Source string `json:"source"`
	Status string `json:"status"` // "ok", "unchanged", "duplicate" or "failed"
	// SameAs is, for a duplicate, the source of the same run captured in
	// this batch (a session's folder and a copy of its zip, say).
	SameAs string `json:"same_as,omitempty"`
	// Ledger is the entry of an unchanged run (its earlier archive).
	Ledger *convert.LedgerEntry `json:"ledger,omitempty"`
	Error  string               `json:"error,omitempty"`
	*convert.Result
}

// Run captures the sources.
func (c *CaptureCmd) Run(ctx context.Context, g *Globals, stdout *Stdout, stderr *Stderr) error {
	c.contours = contours.FromEnv()
	defer c.contours.Close()
	if err := c.checkData(); err != nil {
		return err
	}
	if c.Follow {
		return c.follow(ctx, stdout, stderr)
	}
	if c.Compact {
		return c.compact(ctx, stdout)
	}
	srcs, err := c.sources(stderr)
	if err != nil {
		return err
	}
	if len(srcs) == 0 { // a shard may draw no run
		printf(stderr, "shard %s: no run of %s falls to this shard\n", c.shard, strings.Join(c.Src, ", "))
		return nil
	}
	jobs := c.Jobs
	if jobs <= 0 {
		jobs = min(runtime.GOMAXPROCS(0), 4)
	}
	jobs = min(jobs, len(srcs))
	opts := c.options(jobs)
	if c.dir != "" {
		if err := os.MkdirAll(c.dir, 0o777); err != nil {
			return err
		}
		if c.ledger, err = convert.OpenLedgerFile(c.ledgerPath()); err != nil {
			return err
		}
	}
	// What else decides an archive's content: the options, the --data
	// yaml, the sessions merged in, and this build (a newer one may read
	// the same files better).
	c.optsKey = fmt.Sprintf("%v|%v|%s|%d|%v|%s", opts.NoWeights, opts.AllWeights, opts.Data, opts.DatasetImages, opts.SkipBadMasks, version())
	if opts.NoPolygons {
		c.optsKey += "|no-polygons"
	}
	if opts.Data != "" {
		if st, err := os.Stat(opts.Data); err == nil {
			c.optsKey += fmt.Sprintf("|%d|%d", st.Size(), st.ModTime().UnixNano())
		}
	}
	for _, s := range opts.Sessions {
		fp, err := convert.Fingerprint(s)
		if err != nil {
			return err
		}
		c.optsKey += "|" + s + ":" + fp
	}
	c.seen = map[string]string{}
	c.plan = c.decide(ctx, srcs, jobs)
	var prog *ysync.Progress
	if len(srcs) > 1 {
		prog = g.progress(stderr, "capture", "runs", len(srcs))
	}
	// While bars are drawn, lines go above them.
	out, errOut := escaped(prog.Writer(stdout.Writer)), escaped(prog.Writer(stderr.Writer))
	var gaps gapTally
	reports := make([]captureReport, len(srcs))
	var mu sync.Mutex
	done := 0
	// One run's failure is its report, never the batch's: no run's error
	// cancels the others, and only Ctrl-C stops handing out runs.
	var pool errgroup.Group
	pool.SetLimit(max(1, jobs))
	for i := range srcs {
		if ctx.Err() != nil {
			break
		}
		pool.Go(func() error {
			task := prog.Task(shortName(srcs[i]))
			rep := c.captureOne(ctx, srcs[i], opts)
			task.Done(rep.Status != statusFailed)
			mu.Lock()
			reports[i] = rep
			done++
			prefix := ""
			if len(srcs) > 1 {
				prefix = fmt.Sprintf("[%d/%d] ", done, len(srcs))
			}
			// A run cut short by Ctrl-C is not a failure of its own:
			// the command says "interrupted" once, at the end.
			if rep.Status != statusFailed || ctx.Err() == nil {
				c.print(g, out, errOut, rep, prefix)
			}
			if rep.Result != nil {
				gaps.add(rep.Result.Gaps)
			}
			mu.Unlock()
			return nil
		})
	}
	pool.Wait()
	prog.Wait()
	if c.ledger != nil {
		if err := c.ledger.Flush(); err != nil {
			printf(stderr, "warning: the ledger could not be saved (the next capture will redo these runs): %s\n", oneLine(err.Error()))
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// Captured counts the runs archived, now or by an earlier capture; a
	// duplicate is archived as another source's run.
	var captured, failed, unchanged, dups int
	var broken []string
	for _, r := range reports {
		switch r.Status {
		case "ok":
			captured++
		case "unchanged":
			captured++
			unchanged++
		case "duplicate":
			dups++
		default:
			failed++
			broken = append(broken, r.Source)
		}
	}
	if len(broken) > 0 && len(srcs) > 1 && !c.JSON {
		printf(stderr, "failed (%d):\n", len(broken))
		for _, b := range broken {
			printf(stderr, "  %s\n", b)
		}
	}
	if c.JSON || g.Quiet {
		return outcome(captured+dups, failed)
	}
	if len(srcs) > 1 && !g.Verbose {
		gaps.print(stdout, len(srcs), "runs", "-v lists each run's, with the reasons; inspect shows an archive's")
	}
	if unchanged > 0 {
		printf(stderr, "%d runs unchanged since their last capture (ledger %s; --force captures them again)\n", unchanged, c.ledgerPath())
	}
	if len(srcs) > 1 {
		if dups > 0 {
			printf(stderr, "captured %d of %d runs (%d of the %d sources are the same run as another source: archived once)\n", captured, len(srcs)-dups, dups, len(srcs))
		} else {
			printf(stderr, "captured %d of %d runs\n", captured, len(srcs))
		}
	}
	return outcome(captured+dups, failed)
}

// decide reads the evidence of every training run directory among srcs
// (settings and results.csv, no hashing) and plans which are one run:
// those are archived once, and different runs that share an id each get
// their own (convert.Plan). A source whose evidence cannot be read is
// left to its capture, which reports why.
func (c *CaptureCmd) decide(ctx context.Context, srcs []string, jobs int) map[string]convert.Decision {
	if len(srcs) < 2 {
		return nil
	}
	evs := convert.ReadEvidences(ctx, srcs, jobs)
	return convert.Plan(evs, func(src, runID string) bool {
		if c.ledger == nil {
			return false
		}
		e, ok := c.ledger.Entry(src)
		return ok && e.RunID == runID && e.IDScheme == convert.IDScheme
	})
}

// checkData refuses a --data that is not there: the capture would
// otherwise go on without the dataset.
func (c *CaptureCmd) checkData() error {
	if c.Data == "" {
		return nil
	}
	_, err := os.Stat(c.Data)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--data %s: no such file: give the dataset's yaml (for classify, its folder), or leave --data out to use the run's own data setting", c.Data)
	case err != nil:
		return fmt.Errorf("--data %s: %w", c.Data, err)
	}
	return nil
}

// options are the capture options of the flags, for jobs runs at once.
func (c *CaptureCmd) options(jobs int) convert.Options {
	opts := convert.Options{
		NoWeights:     c.NoWeights,
		AllWeights:    c.AllWeights,
		Data:          c.Data,
		DatasetImages: c.DatasetImages,
		SkipBadMasks:  c.SkipBadMasks,
		NoPolygons:    c.NoPolygons,
		Contours:      c.contours,
		Workers:       max(1, runtime.GOMAXPROCS(0)/jobs),
		Writer:        "yoloarchive " + version(),
		Sessions:      c.Session,
	}
	if c.DatasetImages == 0 {
		opts.DatasetImages = -1
	}
	return opts
}

// captureOne captures one run and never fails: errors go into the report.
func (c *CaptureCmd) captureOne(ctx context.Context, src string, opts convert.Options) captureReport {
	rep := captureReport{Source: src, Status: statusFailed}
	d, planned := c.plan[src]
	if d.SameAs != "" {
		rep.Status, rep.SameAs = "duplicate", d.SameAs
		return rep
	}
	var fp string
	if c.ledger != nil {
		var err error
		if fp, err = convert.Fingerprint(src); err != nil {
			rep.Error = oneLine(err.Error())
			return rep
		}
		fp += "|" + c.optsKey
		if e, ok := c.ledger.Unchanged(src, fp); ok && !c.Force && (!planned || e.RunID == d.RunID) {
			rep.Status, rep.Ledger = "unchanged", &e
			c.claim(e.RunID, src)
			return rep
		}
	}
	run, err := convert.Read(ctx, src, opts)
	if err != nil {
		rep.Error = oneLine(err.Error())
		return rep
	}
	defer run.Close()
	if run.Assign(d) && d.Like != "" {
		run.Warnings = append(run.Warnings, fmt.Sprintf("%s starts as %s does (the same settings and first results.csv row) but its later rows differ: a different run, archived under its own id %s (FORMAT.md §7)", src, d.Like, run.Info.RunID))
	}
	if other, dup := c.claim(run.Info.RunID, src); dup {
		rep.Status, rep.SameAs = "duplicate", other
		return rep
	}
	// The output's folder is made as needed, for -o FILE as for -o DIR.
	dst, dir := c.file, c.dir
	if dst != "" {
		dir = filepath.Dir(dst)
	} else if dir == "" {
		dir = "."
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		rep.Error = oneLine(err.Error())
		return rep
	}
	if dst == "" {
		dst = filepath.Join(dir, archiveName(run.Info.Name, run.Info.RunID))
	}
	res, err := run.Write(ctx, dst)
	if err != nil {
		rep.Error = oneLine(err.Error())
		return rep
	}
	rep.Status, rep.Result = "ok", res
	if c.ledger != nil {
		if err := c.ledger.Record(src, convert.LedgerEntry{Fingerprint: fp, Archive: res.Archive, RunID: res.RunID, Digest: res.Digest, Size: res.Size}); err != nil {
			rep.Status, rep.Error = statusFailed, "the archive was written, but the ledger could not be saved: "+oneLine(err.Error())
		}
	}
	return rep
}

// print reports one run: a JSON line with --json, else a line on stdout
// (failures and warnings on stderr), and its gaps with -v.
func (c *CaptureCmd) print(g *Globals, stdout, stderr io.Writer, rep captureReport, prefix string) {
	if c.JSON {
		b, _ := json.Marshal(rep)
		fmt.Fprintln(stdout, string(b))
		return
	}
	if rep.Status == statusFailed {
		problemLine(stderr, prefix+statusFailed, rep.Source, rep.Error)
		return
	}
	if rep.Result != nil {
		if rep.Result.Resolved != "" {
			printf(stderr, "note: %s is a symbolic link: captured the directory it leads to, %s\n", rep.Source, rep.Result.Resolved)
		}
		for _, w := range rep.Result.Warnings {
			printf(stderr, "warning: %s: %s\n", rep.Source, oneLine(w))
		}
	}
	if g.Quiet {
		return
	}
	switch rep.Status {
	case "duplicate":
		printf(stdout, "%s%s is the same run as %s: captured once\n", prefix, rep.Source, rep.SameAs)
	case "unchanged":
		printf(stdout, "%s%s unchanged (%s)\n", prefix, rep.Source, rep.Ledger.Archive)
	default:
		r := rep.Result
		printf(stdout, "%s%s -> %s (run %s, %s, %d scalars, %d images, %d annotations, %d gaps)\n",
			prefix, rep.Source, r.Archive, r.RunID, humanBytes(r.Size), r.Rows["scalars"], r.Rows["images"], r.Rows["annotations"], len(r.Gaps))
		if g.Verbose {
			printGaps(stdout, r.Gaps)
		}
	}
}

// ledgerPath is the ledger of the output directory, or of the shard.
func (c *CaptureCmd) ledgerPath() string {
	if c.shard != nil {
		return filepath.Join(c.dir, c.shard.LedgerName())
	}
	return filepath.Join(c.dir, convert.LedgerName)
}

// sources expands --recursive roots into run directories (those of the
// shard, with --shard).
func (c *CaptureCmd) sources(stderr io.Writer) ([]string, error) {
	if !c.Recursive {
		return c.Src, nil
	}
	var out []string
	for _, root := range c.Src {
		runs, links, err := findRuns(root)
		if err != nil {
			return nil, err
		}
		for _, l := range links {
			printf(stderr, "note: %s is a symbolic link to a folder: not searched (give it as a SRC of its own to capture what it leads to)\n", l)
		}
		if len(runs) == 0 {
			return nil, fmt.Errorf("%s: no runs found below it", root)
		}
		for _, run := range runs {
			if c.shard != nil {
				rel, err := filepath.Rel(root, run)
				if err != nil {
					return nil, err
				}
				if !c.shard.Has(rel) {
					continue
				}
			}
			out = append(out, run)
		}
	}
	return out, nil
}

// findRuns returns the run directories below root (root included),
// without descending into a run, and the links to folders it did not
// descend either: nothing outside root is searched. root itself may be a
// link.
func findRuns(root string) (runs, links []string, err error) {
	walkRoot := root
	if st, err := os.Lstat(root); err == nil && st.Mode()&fs.ModeSymlink != 0 {
		walkRoot = root + string(filepath.Separator) // walk the directory it leads to
	}
	err = filepath.WalkDir(walkRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == walkRoot {
				return err
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			if st, err := os.Stat(p); err == nil && st.IsDir() {
				links = append(links, p)
			}
			return nil
		}
		if !d.IsDir() {
			// Comet offline zips and ClearML session zips; a session zip
			// beside its own folder is the same session.
			if strings.HasSuffix(d.Name(), ".zip") && !dirExists(strings.TrimSuffix(p, ".zip")) {
				if _, err := convert.Detect(p); err == nil {
					runs = append(runs, p)
				}
			}
			return nil
		}
		if _, err := convert.Detect(p); err == nil {
			runs = append(runs, p)
			return fs.SkipDir
		}
		return nil
	})
	sort.Strings(runs)
	return withoutMerged(runs), links, err
}

// withoutMerged drops the run directories that a tracker session among
// runs is captured into (convert.MergedInto: the MLflow run logged from
// runs/detect/train, in runs/mlflow): that session's capture is the
// run's one archive, with the session's exact values merged in.
func withoutMerged(runs []string) []string {
	var into []os.FileInfo
	for _, r := range runs {
		if d := convert.MergedInto(r); d != "" {
			if st, err := os.Stat(d); err == nil {
				into = append(into, st)
			}
		}
	}
	if len(into) == 0 {
		return runs
	}
	return slices.DeleteFunc(runs, func(r string) bool {
		st, err := os.Stat(r)
		return err == nil && slices.ContainsFunc(into, func(d os.FileInfo) bool { return os.SameFile(st, d) })
	})
}

// archiveName is the default archive file name of a run: its name made
// one safe file name component ([archive.SafeName]: "../x" is x-…, not
// a hidden .._x-… that archives/*.tar.zst misses).
func archiveName(name, runID string) string {
	return fmt.Sprintf("%s-%s.tar.zst", archive.SafeName(name), runID[:12])
}

// humanBytes formats a size.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// shortName names a run in progress reports by its last two path
// elements ("detect/train"): run folders are often all named train.
func shortName(p string) string {
	p = filepath.Clean(p)
	return filepath.Join(filepath.Base(filepath.Dir(p)), filepath.Base(p))
}

func dirExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// claim records src as the source of runID in this batch, unless another
// source claimed it first: then it returns that one.
func (c *CaptureCmd) claim(runID, src string) (other string, dup bool) {
	c.seenMu.Lock()
	defer c.seenMu.Unlock()
	if other, dup = c.seen[runID]; !dup {
		c.seen[runID] = src
	}
	return other, dup
}
