package comet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	gosync "sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/yoloarchive/yoloarchive/schemas"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Destination replays archives into a Comet server over the REST API v2,
// as experiments that look as if Ultralytics' Comet callback had logged
// them live.
type Destination struct {
	cfg     Config
	opts    Options
	copts   ysync.ClientOptions
	limiter *rate.Limiter
	gate    ysync.Gate // shared by every archive's client: a 429 pauses all
	workers int

	batchMu gosync.Mutex
	batches map[string]int // what the server answered each batch endpoint (see probeBatch)
}

var _ ysync.Destination = (*Destination)(nil)

// New returns a Destination for the server in cfg (see LoadConfig). Every
// archive synced through it shares one rate limiter, under Comet's
// published per-key limits.
func New(cfg Config, opts Options) (*Destination, error) {
	if cfg.APIKey == "" {
		return nil, errors.New("no Comet API key: set COMET_API_KEY")
	}
	return &Destination{cfg: cfg, opts: opts, limiter: rate.NewLimiter(DefaultRate, 20), workers: 8}, nil
}

// DefaultRate is the default request rate per second shared by all
// archives of a sync: under Comet's published per-user limit of 8,000
// requests a minute for anything but metrics (12,000 for metrics).
const DefaultRate = 120

// SetRate changes the shared request rate (requests per second), e.g. to
// stay under the 15,000 submissions an hour some accounts have.
func (r *Destination) SetRate(perSecond float64) {
	if perSecond > 0 {
		r.limiter.SetLimit(rate.Limit(perSecond))
	}
}

// SetClientOptions tunes the HTTP client (retries, waits; tests). A nil
// Limiter keeps the shared one.
func (r *Destination) SetClientOptions(o ysync.ClientOptions) { r.copts = o }

// Destination identifies the server and workspace (never the key).
func (r *Destination) Destination() string {
	d := "comet:" + r.cfg.Root() + "/" + r.workspaceHint()
	if p := r.projectHint(); p != "" {
		d += "/" + p // another project is another destination
	}
	return d
}

func (r *Destination) projectHint() string {
	if r.opts.Project != "" {
		return r.opts.Project
	}
	return r.cfg.Project
}

func (r *Destination) workspaceHint() string {
	if r.opts.Workspace != "" {
		return r.opts.Workspace
	}
	return r.cfg.Workspace
}

// Tracker is "comet".
func (r *Destination) Tracker() string { return "comet" }

// Plan counts what a sync would send.
func (r *Destination) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	l, err := r.build(ctx, run)
	if err != nil {
		return nil, err
	}
	p, err := l.count(ctx)
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (r *Destination) build(ctx context.Context, run *ysync.Run) (*Log, error) {
	o := r.opts
	if o.Project == "" {
		o.Project = r.cfg.Project
	}
	if o.Workspace == "" {
		o.Workspace = r.cfg.Workspace
	}
	return buildStream(ctx, run, o)
}

// replay is one archive's replay into its experiment.
type replay struct {
	*Destination
	http *ysync.Client
	run  *ysync.Run
	log  *Log
	st   *ysync.State
	task *ysync.Task
	// res collects the URL, warnings and gaps of this replay (Close adds
	// them to the core's Result).
	res *ysync.Result
	key string
	ws  string

	// known holds the others of the experiment as read in this sync
	// before it wrote any (the lookup's or the checkpoint's read), so
	// that the checks that follow need not read them again.
	known *othersAnswer

	skipped int
	// want folds the plan's metric points (see planned).
	want *folds
	// dry is set by Find: a dry run, whose ReadBack lists every change.
	dry bool
}

// Open prepares the replay of run into its experiment: find it by the
// run id (or create it), send what the server lacks, read it all back,
// and only then mark the experiment ended.
func (r *Destination) Open(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task) (ysync.Replay, error) {
	l, err := r.build(ctx, run)
	if err != nil {
		return nil, err
	}
	copts := r.copts
	if copts.Limiter == nil {
		copts.Limiter = r.limiter
	}
	if copts.Gate == nil {
		copts.Gate = &r.gate
	}
	s := &replay{Destination: r, http: ysync.NewClient(copts), run: run, log: l, st: st, task: task, res: &ysync.Result{}}
	s.res.Gaps = restLeftOut(l)
	return s, nil
}

// Close adds the requests, retries, skipped items, warnings and gaps to
// res.
func (s *replay) Close(res *ysync.Result) {
	res.Requests, res.Retries = s.http.Requests(), s.http.Retries()
	res.Skipped += s.skipped
	res.Gaps = append(res.Gaps, s.res.Gaps...)
	res.Warnings = append(res.Warnings, s.res.Warnings...)
}

// FindOrCreate finds the workspace, then the run's experiment.
func (s *replay) FindOrCreate(ctx context.Context, force bool) (ysync.Found, error) {
	if err := s.workspace(ctx); err != nil {
		return ysync.Found{}, err
	}
	if err := s.experiment(ctx, force); err != nil {
		return ysync.Found{}, err
	}
	return ysync.Found{ID: s.key, URL: s.res.URL, Check: !s.st.Has("created")}, nil
}

// Find finds the workspace, then the run's experiment as FindOrCreate
// does, with GET requests only: an experiment of the checkpoint that an
// earlier attempt made but did not mark yet is the run's (a sync marks
// it).
func (s *replay) Find(ctx context.Context) (ysync.Found, bool, error) {
	s.dry = true
	if err := s.workspace(ctx); err != nil {
		return ysync.Found{}, false, err
	}
	if s.st.RemoteID != "" {
		var others othersAnswer
		err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {s.st.RemoteID}}, &others)
		switch id := others.get(RunIDOther); {
		case err == nil && (id == s.log.RunID || id == ""):
			s.key, s.known = s.st.RemoteID, &others
		case err != nil && !experimentGone(err):
			return ysync.Found{}, false, err
		default:
			s.st.Reset() // as FindOrCreate forgets a checkpoint whose experiment is gone
		}
	}
	if s.key == "" {
		key, err := s.lookup(ctx, false)
		if err != nil || key == "" {
			return ysync.Found{}, false, err
		}
		s.key = key
	}
	s.res.URL = s.st.URL
	if s.res.URL == "" || s.st.RemoteID != s.key {
		s.res.URL = s.cfg.Root() + "/" + s.ws + "/" + s.log.Project + "/" + s.key
	}
	return ysync.Found{ID: s.key, URL: s.res.URL}, true, nil
}

// workspace sets the workspace: the configured one, else the key's
// default.
func (s *replay) workspace(ctx context.Context) error {
	if s.ws = s.log.Workspace; s.ws != "" {
		return nil
	}
	var acct struct {
		DefaultWorkspaceName string `json:"defaultWorkspaceName"`
	}
	if err := s.get(ctx, "account-details", nil, &acct); err != nil {
		return err
	}
	s.ws = acct.DefaultWorkspaceName
	return nil
}

// Ended reports whether the experiment carries the final marker.
func (s *replay) Ended(ctx context.Context) (bool, error) {
	others, err := s.others(ctx)
	if err != nil {
		return false, err
	}
	return others.get(FinalOther) == "true", nil
}

// Steps plans the experiment: others, parameters, the console before the
// metrics (a read-back that finds every point then also means the console
// was written), uploads, tags.
func (s *replay) Steps(context.Context) ([]ysync.Step, error) {
	steps := []ysync.Step{{Name: "others", Once: true}, {Name: "params", Once: true}}
	if len(s.lines()) > 0 {
		steps = append(steps, ysync.Step{Name: "output", Once: true})
	}
	steps = append(steps, ysync.Step{Name: "metrics", Once: true}, ysync.Step{Name: "uploads", Once: true})
	if len(s.log.Tags) > 0 {
		steps = append(steps, ysync.Step{Name: "tags", Once: true})
	}
	return steps, nil
}

// Apply sends one step.
func (s *replay) Apply(ctx context.Context, step ysync.Step) error {
	switch step.Name {
	case "others":
		return s.logOthers(ctx)
	case "params":
		return s.repair(ctx, s.sendParams)
	case "output":
		return s.repair(ctx, s.sendOutput)
	case "metrics":
		return s.repair(ctx, s.sendMetrics)
	case "uploads":
		return s.repair(ctx, func(ctx context.Context, _ int) error { return s.sendUploads(ctx) })
	case "tags":
		return s.post(ctx, "write/experiment/tags", map[string]any{"experimentKey": s.key, "addedTags": s.log.Tags}, nil)
	}
	return fmt.Errorf("comet: unknown step %q (internal error)", step.Name)
}

// ReadBack verifies the experiment against the build. A dry run's lists
// every change (see changes).
func (s *replay) ReadBack(ctx context.Context) error {
	if s.dry {
		return s.changes(ctx)
	}
	return s.verify(ctx)
}

// Finish ends a final run's experiment. A run still training (a chain
// without its final link) stays open, and its times are set once it
// ended: an earlier state synced after the final one must not move them
// back. The final marker comes last, so an experiment that carries it was
// ended: a re-sync that finds it writes nothing.
func (s *replay) Finish(ctx context.Context) error {
	ended := s.known != nil && s.known.get(FinalOther) == "true"
	if !s.run.Final() || ended {
		return nil
	}
	if err := s.post(ctx, "write/experiment/set-start-end-time", map[string]any{"experimentKey": s.key,
		"startTimeMillis": s.log.Start.UnixMilli(), "endTimeMillis": s.log.End.UnixMilli()}, nil); err != nil {
		return err
	}
	if err := s.post(ctx, "write/experiment/update-status", map[string]any{"experimentKey": s.key,
		"isAlive": false, "error": nil, "hasCrashed": false}, nil); err != nil {
		return err
	}
	return s.post(ctx, "write/experiment/log-other", map[string]any{"experimentKey": s.key, "key": FinalOther, "value": "true"}, nil)
}

// experiment finds the run's experiment (checkpoint, then the run-id
// other in the project) or creates it and marks it with the run id.
func (s *replay) experiment(ctx context.Context, force bool) error {
	if s.st.RemoteID != "" && !force {
		var others othersAnswer
		err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {s.st.RemoteID}}, &others)
		switch {
		case err == nil && others.get(RunIDOther) == s.log.RunID:
			s.key = s.st.RemoteID
			s.res.URL = s.st.URL
			s.known = &others
			return nil
		case err == nil && others.get(RunIDOther) == "":
			// Created by an earlier attempt that stopped before the
			// marker was logged: mark it now.
			s.key = s.st.RemoteID
			s.res.URL = s.st.URL
			return s.post(ctx, "write/experiment/log-other", map[string]any{"experimentKey": s.key, "key": RunIDOther, "value": s.log.RunID}, nil)
		case err != nil && !experimentGone(err):
			return err
		}
		s.st.Reset() // gone on the server: look again
	}
	key, err := s.lookup(ctx, false)
	if err != nil {
		return err
	}
	switch {
	case key != "" && !force:
		return s.adopt(key, false)
	case key != "":
		// --force: the old experiment stops answering to the run id.
		s.known = nil
		if err := s.post(ctx, "write/experiment/log-other", map[string]any{"experimentKey": key, "key": RunIDOther, "value": "replaced:" + s.log.RunID}, nil); err != nil {
			return err
		}
	}
	if s.st.Get("creating") != "" {
		// An earlier sync stopped between its create and the run-id
		// marker (killed, or the answer lost): adopt the experiment it
		// made rather than make a second.
		if key, err := s.lookup(ctx, true); err != nil || key != "" {
			if err != nil {
				return err
			}
			return s.created(ctx, key, "")
		}
	}
	if err := s.st.Set("creating", "1"); err != nil {
		return err
	}
	var out struct {
		ExperimentKey string `json:"experimentKey"`
		Link          string `json:"link"`
	}
	body := map[string]any{"workspaceName": s.ws, "projectName": s.log.Project, "experimentName": s.log.Name}
	err = s.post(ysync.NotIdempotent(ctx), "write/experiment/create", body, &out)
	if err != nil && ysync.Transient(err) {
		// The create may have happened: adopt an unmarked experiment of
		// this name before creating again.
		if key, lerr := s.lookup(ctx, true); lerr == nil && key != "" {
			out.ExperimentKey, err = key, nil
		} else {
			err = s.post(ysync.NotIdempotent(ctx), "write/experiment/create", body, &out)
		}
	}
	if err != nil {
		return err
	}
	return s.created(ctx, out.ExperimentKey, out.Link)
}

// created adopts the experiment this sync (or an earlier one) created and
// marks it with the run id first, so that any later sync finds it.
func (s *replay) created(ctx context.Context, key, link string) error {
	s.known = nil
	s.res.URL = link
	if err := s.adopt(key, true); err != nil {
		return err
	}
	if err := s.post(ctx, "write/experiment/log-other", map[string]any{"experimentKey": s.key, "key": RunIDOther, "value": s.log.RunID}, nil); err != nil {
		return err
	}
	return s.st.Set("creating", "")
}

func (s *replay) adopt(key string, created bool) error {
	s.key = key
	if s.res.URL == "" {
		s.res.URL = s.cfg.Root() + "/" + s.ws + "/" + s.log.Project + "/" + key
	}
	s.st.RemoteID, s.st.URL = key, s.res.URL
	if created {
		return s.st.Mark("created")
	}
	return s.st.Save()
}

type othersAnswer struct {
	Values []struct {
		Name         string `json:"name"`
		ValueCurrent any    `json:"valueCurrent"`
	} `json:"values"`
}

// blank reports whether there are no others but the experiment's name.
func (o othersAnswer) blank() bool {
	for _, v := range o.Values {
		if v.Name != "Name" {
			return false
		}
	}
	return true
}

func (o othersAnswer) get(name string) string {
	for _, v := range o.Values {
		if v.Name == name {
			return fmt.Sprint(v.ValueCurrent)
		}
	}
	return ""
}

// lookup finds the project's experiment carrying the run id; with
// unmarked it finds instead an experiment of the run's name that holds no
// others but its name (one a sync created but never heard back about;
// an experiment logged live has others, the callback's among them).
func (s *replay) lookup(ctx context.Context, unmarked bool) (string, error) {
	var list struct {
		Experiments []struct {
			ExperimentKey  string `json:"experimentKey"`
			ExperimentName any    `json:"experimentName"`
		} `json:"experiments"`
	}
	err := s.get(ctx, "experiments", url.Values{"workspaceName": {s.ws}, "projectName": {s.log.Project}}, &list)
	if projectMissing(err) {
		return "", nil // the first sync into a new project: create makes it
	}
	if err != nil {
		return "", err
	}
	// Only experiments named after the run are read (one request each):
	// a replay always names its experiment so, and reading every
	// experiment's others would make a bulk sync quadratic.
	for _, e := range list.Experiments {
		if fmt.Sprint(e.ExperimentName) != s.log.Name {
			continue
		}
		var others othersAnswer
		if err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {e.ExperimentKey}}, &others); err != nil {
			return "", err
		}
		id := others.get(RunIDOther)
		if (!unmarked && id == s.log.RunID) || (unmarked && others.blank()) {
			if !unmarked {
				s.known = &others
			}
			return e.ExperimentKey, nil
		}
	}
	return "", nil
}

// codeNoSuchWorkspace is the sdk_error_code of a workspace that does not
// exist (comet-api.md §4.3).
const codeNoSuchWorkspace = 90219

// projectMissing reports whether err answers a lookup of a project that
// does not exist (yet): 404 on newer servers, 400 "Project not found" on
// older ones (comet-api.md §3). Any other error, a 400 for an unknown
// workspace included, stays an error.
func projectMissing(err error) bool {
	var ae *APIError
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.Status {
	case http.StatusNotFound:
		return true
	case http.StatusBadRequest:
		return ae.Code != codeNoSuchWorkspace && strings.Contains(strings.ToLower(ae.Msg), "not found")
	}
	return false
}

// experimentGone reports whether err answers a lookup of an experiment key
// the server does not know (deleted, or of another server): 404 on newer
// servers, 400 on older ones, as the SDK's API.get_experiment_by_key takes
// them (comet-api.md §3), or no access to it any more (90210).
func experimentGone(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && (ae.Status == http.StatusNotFound || ae.Status == http.StatusBadRequest || ae.Code == 90210)
}

// others returns the experiment's others: as read earlier in this sync
// when it wrote none since, else read now.
func (s *replay) others(ctx context.Context) (othersAnswer, error) {
	if s.known != nil {
		return *s.known, nil
	}
	var others othersAnswer
	err := s.get(ctx, "experiment/log-other", url.Values{"experimentKey": {s.key}}, &others)
	return others, err
}

// logOthers logs the callback's others and the archive's gap items (each
// write overwrites: safe to repeat). The run-id marker is on the
// experiment already: it was found by it, or marked when created.
func (s *replay) logOthers(ctx context.Context) error {
	s.known = nil
	s.task.Stage("others", 0)
	send := func(k string, v any) error {
		return s.post(ctx, "write/experiment/log-other", map[string]any{"experimentKey": s.key, "key": k, "value": otherValue(v)}, nil)
	}
	if s.log.Gaps != "" {
		if err := send(ysync.GapsOther, s.log.Gaps); err != nil {
			return err
		}
	}
	for _, c := range s.log.Calls {
		for _, kv := range c.Others {
			if err := send(kv.Key, kv.Value); err != nil {
				return err
			}
		}
	}
	return nil
}

// otherValue renders a value for log-other, which takes strings,
// numbers and booleans (floats as Python writes them: 3.0, not 3).
func otherValue(v any) any {
	switch x := v.(type) {
	case float64:
		return metricJSON(x)
	case string, bool, int64, int:
		return v
	case nil:
		return "None"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// repair runs a send step again after a transient failure: the step reads
// back what arrived and sends only the rest. It stops when the HTTP client
// gave up (ysync.Client.Down): the rounds never add attempts against a
// dead server.
func (s *replay) repair(ctx context.Context, step func(ctx context.Context, round int) error) error {
	var err error
	for round := 0; round < 8; round++ {
		if err = step(ctx, round); err == nil || !ysync.Transient(err) || ctx.Err() != nil || s.http.Down() {
			return err
		}
		if serr := ysync.Sleep(ctx, time.Duration(round+1)*300*time.Millisecond); serr != nil {
			return serr
		}
	}
	return err
}

// verify reads the experiment back: the run-id other, every parameter,
// every metric point (as a multiset), every upload at its size.
func (s *replay) verify(ctx context.Context) error {
	others, err := s.others(ctx)
	if err != nil {
		return err
	}
	for _, c := range s.log.Calls {
		for _, kv := range c.Others {
			if others.get(kv.Key) == "" {
				return s.mismatch("other %q is missing", kv.Key)
			}
		}
	}
	seen, err := s.serverParams(ctx)
	if err != nil {
		return err
	}
	for _, p := range s.params() {
		if !seen[p.name] {
			return s.mismatch("parameter %q is missing", p.name)
		}
	}
	if err := s.verifyPoints(ctx); err != nil {
		return err
	}
	assets, err := s.serverAssets(ctx)
	if err != nil {
		return err
	}
	for _, a := range s.assets() {
		if size, ok := assets[a.id()]; !ok || size != a.call.File.Size {
			return s.mismatch("upload %s is missing", a.id())
		}
	}
	return nil
}

func (s *replay) mismatch(format string, args ...any) error {
	return &ysync.MismatchError{Msg: fmt.Sprintf("read-back of Comet experiment %s: "+format+": run again to send what is missing", append([]any{s.key}, args...)...)}
}

// restLeftOut says which calls of a captured Comet session the REST
// replay does not send (system details, packages, git, html): they are
// written by --to comet-offline, which `comet upload` sends.
func restLeftOut(l *Log) []schemas.GapRow {
	counts := map[string]int{}
	for _, c := range l.Calls {
		if c.Kind == KindRaw {
			counts[c.RawType]++
		}
	}
	var out []schemas.GapRow
	for _, k := range sortedKeys(counts) {
		out = append(out, schemas.GapRow{Item: schemas.GapCometMessage(k),
			Reason: fmt.Sprintf("%d %s messages of the Comet session are not sent over REST", counts[k], k),
			Hint:   "--to comet-offline writes them; `comet upload` sends them"})
	}
	return out
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
