package mlflow

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/filestore"
)

// The log-batch limits (MLflow's validation.py): 1,000 metrics, 100
// params, 100 tags and 1,000 entities a request, and 1,000,000 bytes.
const (
	maxBatchMetrics = 1000
	maxBatchParams  = 100
	maxBatchBytes   = 900_000 // under the 1,000,000 the server takes, for the JSON framing
	// historyPage is the page size asked of metrics/get-history (the
	// server's default and maximum for a database backend is 25,000).
	historyPage = 25000
)

// Destination replays archives into an MLflow tracking server over its REST
// API (2.0), as runs that look as if Ultralytics' MLflow callback had
// logged them live (see BuildPlan).
//
// It is a sync.Destination: the core runs one archive's sync as
// findOrCreate (the checkpoint's run, else the run whose
// yoloarchive.run_id tag is the archive's, else a new one), steps (the
// plan cut into requests: params and metrics by log-batch within its
// limits, one artifact each), apply each step not checkpointed yet,
// readBack (params, tags, every metric's whole history, the artifacts),
// and finish (status and end time) before the run is recorded synced.
type Destination struct {
	cfg   Config
	opts  Options
	copts ysync.ClientOptions
	gate  ysync.Gate // shared by every archive's client: a 429 pauses all
}

var _ ysync.Destination = (*Destination)(nil)

// New returns a Destination for the server in cfg (see ConfigFromEnv). The
// experiment and run name come from opts, else from cfg
// (MLFLOW_EXPERIMENT_NAME, MLFLOW_RUN), else the run (see BuildPlan).
func New(cfg Config, opts Options) *Destination {
	if opts.Experiment == "" {
		opts.Experiment = cfg.Experiment
	}
	if opts.RunName == "" {
		opts.RunName = cfg.RunName
	}
	return &Destination{cfg: cfg, opts: opts}
}

// SetClientOptions tunes the HTTP client (retries, waits; tests).
func (r *Destination) SetClientOptions(o ysync.ClientOptions) { r.copts = o }

// Destination identifies the server and the experiment when one is set
// (never the credentials).
func (r *Destination) Destination() string {
	d := "mlflow:" + r.cfg.base()
	if r.opts.Experiment != "" {
		d += "/" + r.opts.Experiment
	}
	return d
}

// Tracker is "mlflow".
func (r *Destination) Tracker() string { return "mlflow" }

// Plan counts what Sync would send.
func (r *Destination) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	p, err := BuildPlan(ctx, run, r.opts)
	if err != nil {
		return nil, err
	}
	return p.Counts(), nil
}

// Counts is the plan as the sync report counts it.
func (p *Plan) Counts() *ysync.Plan {
	c := &ysync.Plan{Project: p.Experiment, Name: p.RunName, Parameters: len(p.Params), Scalars: p.Scalars, Assets: len(p.Artifacts)}
	for _, a := range p.Artifacts {
		c.UploadBytes += a.Size
		if path.Ext(a.Path) == ".pt" {
			c.ModelBytes += a.Size
		}
	}
	return c
}

// replay is one archive's replay into its MLflow run.
type replay struct {
	*Destination
	c    *client
	run  *ysync.Run
	plan *Plan
	st   *ysync.State
	res  *ysync.Result

	expID  string
	remote *runJSON // the remote run as last read
	// fresh is set when this sync created the remote run: it holds only
	// what this sync sent.
	fresh bool
	// have is the remote run's metric points not yet matched with the
	// plan's (read back once before the first metric batch of a run this
	// sync did not create, so that nothing is sent twice).
	have  *serverPoints
	blobs *ysync.Blobs
	// next pulls the plan's next log-batch of metric points (see batch);
	// cursor is the index of the batch it pulls next.
	next   func() (metricBatch, error, bool)
	stop   func()
	cursor int

	// task shows progress; todo holds the steps by name; check is set
	// until the first read-back of a run this sync did not create.
	task  *ysync.Task
	todo  map[string]step
	check bool
	// dry is set by Find: a dry run, whose ReadBack lists every change.
	dry bool
}

func (s *replay) close() {
	s.stopBatches()
	s.res.Requests, s.res.Retries = s.c.http.Requests(), s.c.http.Retries()
	if s.blobs != nil {
		s.blobs.Close()
	}
}

// Open prepares the replay of run into its MLflow run (a
// sync.Destination: the core finds or creates it by the run id, sends
// what it lacks, reads it all back, and only then ends it and records the
// run synced).
func (r *Destination) Open(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task) (ysync.Replay, error) {
	p, err := BuildPlan(ctx, run, r.opts)
	if err != nil {
		return nil, err
	}
	copts := r.copts
	if copts.Gate == nil {
		copts.Gate = &r.gate
	}
	copts.InsecureSkipVerify = copts.InsecureSkipVerify || r.cfg.Insecure
	if copts.TLSConfig == nil {
		copts.TLSConfig = r.cfg.tls
	}
	return &replay{Destination: r, c: &client{cfg: r.cfg, http: ysync.NewClient(copts)}, run: run, plan: p, st: st, res: &ysync.Result{}, task: task}, nil
}

// FindOrCreate finds or creates the archive's MLflow run (see
// findOrCreate). A run this sync did not create is read back first.
func (s *replay) FindOrCreate(ctx context.Context, force bool) (ysync.Found, error) {
	found, err := s.findOrCreate(ctx, true, force)
	if err != nil {
		return ysync.Found{}, err
	}
	if !found {
		return ysync.Found{}, fmt.Errorf("mlflow: run %s: not created (internal error, please report)", s.run.RunID())
	}
	s.check = !s.fresh && !s.st.Has("created")
	return ysync.Found{ID: s.st.RemoteID, URL: s.st.URL, Check: s.check}, nil
}

// Find finds the archive's MLflow run as FindOrCreate does, with reads
// only (runs/get, experiments/get-by-name, runs/search).
func (s *replay) Find(ctx context.Context) (ysync.Found, bool, error) {
	s.dry = true
	found, err := s.findOrCreate(ctx, false, false)
	if err != nil || !found {
		return ysync.Found{}, false, err
	}
	return ysync.Found{ID: s.st.RemoteID, URL: s.st.URL}, true, nil
}

// Ended reports whether the remote run was ended (by a later, final state
// of the run).
func (s *replay) Ended(context.Context) (bool, error) { return s.behind(), nil }

// Steps cuts the plan into log-batches and artifact uploads. They are
// checkpointed by Apply itself: a metric batch the checkpoint has still
// consumes its points from what the server holds.
func (s *replay) Steps(context.Context) ([]ysync.Step, error) {
	if s.st.Synced {
		return nil, nil
	}
	s.unproxied()
	s.todo = map[string]step{}
	var out []ysync.Step
	for _, st := range s.steps() {
		s.todo[st.name] = st
		out = append(out, ysync.Step{Name: st.name})
	}
	if !s.dry {
		s.task.Stage("send", int64(len(out)))
	}
	return out, nil
}

// Apply sends one step unless the checkpoint has it, then marks it.
func (s *replay) Apply(ctx context.Context, step ysync.Step) error {
	st, ok := s.todo[step.Name]
	if !ok {
		return fmt.Errorf("mlflow: no step %q (internal error, please report)", step.Name)
	}
	defer s.task.Add(1)
	if s.st.Has(st.name) {
		s.res.Skipped++
		return s.skip(ctx, st)
	}
	if err := s.apply(ctx, st); err != nil {
		return err
	}
	return s.st.Mark(st.name)
}

// ReadBack compares the remote run with the plan (see readBack). The
// first read-back of a run this sync did not create also wants the run
// ended: an unended one still gets the steps (which skip what it holds)
// and its end.
func (s *replay) ReadBack(ctx context.Context) error {
	pre := s.check
	s.check = false
	changes, err := s.readBack(ctx)
	if err != nil {
		return err
	}
	if s.dry {
		// A dry run lists every change, the end included.
		if !s.ended() {
			changes = append(changes, "run not ended")
		}
		if len(changes) == 0 {
			return nil
		}
		return &ysync.MismatchError{Msg: fmt.Sprintf("mlflow: run %s: %s", s.st.RemoteID, strings.Join(changes, "; ")), Changes: changes}
	}
	if len(changes) > 0 {
		return &ysync.MismatchError{Msg: fmt.Sprintf("mlflow: run %s read back differs from what was sent (%s): run the same command again to resend what is missing (MLflow cannot remove points logged twice: --force makes a new run)", s.st.RemoteID, strings.Join(changes, "; "))}
	}
	if pre && !s.ended() {
		return &ysync.MismatchError{Msg: "mlflow: run " + s.st.RemoteID + " not ended"}
	}
	return nil
}

// Finish ends the remote run (see finish).
func (s *replay) Finish(ctx context.Context) error { return s.finish(ctx) }

// Close adds the replay's requests, retries, skipped steps and warnings
// to res.
func (s *replay) Close(res *ysync.Result) {
	s.close()
	res.Requests, res.Retries = s.res.Requests, s.res.Retries
	res.Skipped += s.res.Skipped
	res.Warnings = append(res.Warnings, s.res.Warnings...)
	res.RemoteID, res.URL = firstNonEmpty(s.res.RemoteID, res.RemoteID), firstNonEmpty(s.res.URL, res.URL)
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// findOrCreate finds the archive's remote run: the checkpoint's, else the
// one tagged with its run id in the experiment; when there is none and
// create is set, it creates it (and the experiment). It reports whether
// a run was found or made. --force (the checkpoint's Replace)
// retags the old run "replaced:<run id>" and makes a new one (the core
// clears the checkpoint's Replace once it returns).
func (s *replay) findOrCreate(ctx context.Context, create, force bool) (bool, error) {
	if s.st.RemoteID != "" && !force {
		r, err := s.getRun(ctx, s.st.RemoteID)
		switch {
		case err == nil && r.Info.LifecycleStage != "deleted":
			if v, _ := r.tag(TagRunID); v == s.run.RunID() {
				s.adopt(r)
				return true, nil
			}
		case err != nil && !notFound(err):
			return false, err
		}
		// Deleted, gone or retagged on the server: look again.
		s.st.Reset()
	}
	if err := s.experiment(ctx, create); err != nil || s.expID == "" {
		return false, err
	}
	r, err := s.search(ctx)
	if err != nil {
		return false, err
	}
	if r != nil && !force {
		s.adopt(r)
		return true, s.saveRemote(create)
	}
	if !create {
		return false, nil
	}
	if r != nil {
		// --force: the old run stops answering to the run id.
		if err := s.c.post(ctx, "runs/set-tag", map[string]any{"run_id": r.Info.RunID, "key": TagRunID, "value": "replaced:" + s.run.RunID()}, nil); err != nil {
			return false, err
		}
	}
	tags := make([]keyValue, 0, len(s.plan.Tags))
	for _, t := range s.plan.Tags {
		tags = append(tags, keyValue{t.Key, t.Value})
	}
	body := map[string]any{"experiment_id": s.expID, "run_name": s.plan.RunName, "start_time": s.plan.Start.UnixMilli(), "tags": tags}
	var out struct {
		Run runJSON `json:"run"`
	}
	// The run id tag is set with the create itself: a create whose answer
	// was lost is found by the search, never made twice.
	err = s.c.post(ysync.NotIdempotent(ctx), "runs/create", body, &out)
	if err != nil && transient(err) {
		if r, serr := s.search(ctx); serr == nil && r != nil {
			out.Run, err = *r, nil
		} else if serr == nil {
			err = s.c.post(ysync.NotIdempotent(ctx), "runs/create", body, &out)
		}
	}
	if err != nil {
		return false, err
	}
	s.adopt(&out.Run)
	s.fresh = true
	s.have = &serverPoints{}
	return true, s.st.Mark("created")
}

// saveRemote records the adopted run in the checkpoint (a sync; Find
// leaves the checkpoint alone).
func (s *replay) saveRemote(save bool) error {
	if !save {
		return nil
	}
	return s.st.Save()
}

func (s *replay) adopt(r *runJSON) {
	s.remote = r
	s.expID = r.Info.ExperimentID
	s.st.RemoteID = r.Info.RunID
	s.st.URL = s.cfg.base() + "/#/experiments/" + url.PathEscape(r.Info.ExperimentID) + "/runs/" + url.PathEscape(r.Info.RunID)
	s.res.RemoteID, s.res.URL = s.st.RemoteID, s.st.URL
}

// experiment finds the plan's experiment by name, or creates it when
// create is set; s.expID stays empty when it does not exist.
func (s *replay) experiment(ctx context.Context, create bool) error {
	name := s.plan.Experiment
	get := func() error {
		var out struct {
			Experiment experimentJSON `json:"experiment"`
		}
		err := s.c.get(ctx, "experiments/get-by-name", url.Values{"experiment_name": {name}}, &out)
		if err != nil {
			return err
		}
		if out.Experiment.LifecycleStage == "deleted" {
			return fmt.Errorf("mlflow: experiment %q (id %s) is deleted: restore it (mlflow experiments restore --experiment-id %s) or choose another with MLFLOW_EXPERIMENT_NAME or --project", name, out.Experiment.ExperimentID, out.Experiment.ExperimentID)
		}
		s.expID = out.Experiment.ExperimentID
		return nil
	}
	err := get()
	if err == nil || !notFound(err) || !create {
		if notFound(err) {
			err = nil
		}
		return err
	}
	var out struct {
		ExperimentID string `json:"experiment_id"`
	}
	err = s.c.post(ysync.NotIdempotent(ctx), "experiments/create", map[string]any{"name": name}, &out)
	var ae *APIError
	if err != nil && (transient(err) || errors.As(err, &ae) && ae.Code == "RESOURCE_ALREADY_EXISTS") {
		// Made meanwhile (another worker, or this create before its
		// answer was lost).
		if gerr := get(); gerr == nil {
			return nil
		}
	}
	if err != nil {
		return err
	}
	s.expID = out.ExperimentID
	return nil
}

// search returns the active run of the experiment tagged with the
// archive's run id, or nil. Several (made by hand, or by another tool)
// are reported; the oldest is used.
func (s *replay) search(ctx context.Context) (*runJSON, error) {
	filter := fmt.Sprintf("tags.`%s` = '%s'", TagRunID, strings.ReplaceAll(s.run.RunID(), "'", "\\'"))
	var out struct {
		Runs []runJSON `json:"runs"`
	}
	if err := s.c.post(ctx, "runs/search", map[string]any{"experiment_ids": []string{s.expID}, "filter": filter, "max_results": 10}, &out); err != nil {
		return nil, err
	}
	if len(out.Runs) == 0 {
		return nil, nil
	}
	// Newest first (start_time descending): the oldest is the original.
	r := out.Runs[len(out.Runs)-1]
	if len(out.Runs) > 1 {
		s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("%d runs of experiment %s are tagged %s=%s: using %s", len(out.Runs), s.expID, TagRunID, s.run.RunID(), r.Info.RunID))
	}
	return &r, nil
}

func (s *replay) getRun(ctx context.Context, id string) (*runJSON, error) {
	var out struct {
		Run runJSON `json:"run"`
	}
	if err := s.c.get(ctx, "runs/get", url.Values{"run_id": {id}}, &out); err != nil {
		return nil, err
	}
	return &out.Run, nil
}

// behind reports whether the remote run already ended while this archive
// holds an unfinished state of the run (a chain without its final link).
func (s *replay) behind() bool {
	return !s.run.Final() && s.remote.Info.Status != filestore.Running.String()
}

// ended reports whether the remote run has the plan's status and end
// time.
func (s *replay) ended() bool {
	i := s.remote.Info
	if s.plan.End.IsZero() {
		return i.Status == s.plan.Status.String()
	}
	return i.Status == s.plan.Status.String() && i.EndTime != nil && int64(*i.EndTime) == s.plan.End.UnixMilli()
}

// finish ends the remote run with the plan's status and end time (the
// run's own, not now), unless it has them; the core then records the run
// synced.
func (s *replay) finish(ctx context.Context) error {
	if s.ended() {
		return nil
	}
	body := map[string]any{"run_id": s.remote.Info.RunID, "status": s.plan.Status.String()}
	if !s.plan.End.IsZero() {
		body["end_time"] = s.plan.End.UnixMilli()
	}
	var out struct {
		RunInfo runInfoJSON `json:"run_info"`
	}
	if err := s.c.post(ctx, "runs/update", body, &out); err != nil {
		return err
	}
	if out.RunInfo.Status != s.plan.Status.String() {
		return fmt.Errorf("mlflow runs/update: run %s answered status %q, want %s", s.remote.Info.RunID, out.RunInfo.Status, s.plan.Status)
	}
	return nil
}

// unproxied records, as a gap, artifacts the server cannot take through
// its proxy (an artifact root that is not mlflow-artifacts:), and drops
// them from the plan.
func (s *replay) unproxied() {
	if len(s.plan.Artifacts) == 0 || s.proxied() {
		return
	}
	s.res.Warnings = append(s.res.Warnings, fmt.Sprintf("the server does not proxy artifacts (run artifact root %s): the %d train-end artifacts were not uploaded; run `mlflow server` with --serve-artifacts, or upload them with the MLflow client", redactRoot(s.remote.Info.ArtifactURI), len(s.plan.Artifacts)))
	s.plan.Artifacts = nil
}

func redactRoot(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "(unparsable)"
	}
	p.User, p.RawQuery = nil, ""
	return p.String()
}

// proxied reports whether the run's artifacts go through the server's
// artifacts proxy.
func (s *replay) proxied() bool {
	return strings.HasPrefix(s.remote.Info.ArtifactURI, "mlflow-artifacts:")
}

// artifactPath is the proxy path of an artifact: the artifact root's
// path ("mlflow-artifacts:/1/<run>/artifacts", or with a host
// "mlflow-artifacts://host/1/…"), then the artifact's.
func (s *replay) artifactPath(p string) string {
	root := strings.TrimPrefix(s.remote.Info.ArtifactURI, "mlflow-artifacts:")
	if u, err := url.Parse(root); err == nil && strings.HasPrefix(root, "//") {
		root = u.Path
	}
	var parts []string
	for _, seg := range strings.Split(strings.Trim(root, "/")+"/"+p, "/") {
		parts = append(parts, url.PathEscape(seg))
	}
	return "/" + strings.Join(parts, "/")
}

// openBlob opens an artifact's file, extracting the plan's artifacts from
// the archive on first use.
func (s *replay) openBlob(ctx context.Context, digest string) (io.ReadCloser, error) {
	if s.blobs == nil {
		var ds []string
		for _, a := range s.plan.Artifacts {
			ds = append(ds, a.Blob)
		}
		b, err := s.run.Extract(ctx, ds)
		if err != nil {
			return nil, err
		}
		s.blobs = b
	}
	return s.blobs.Open(digest)
}
