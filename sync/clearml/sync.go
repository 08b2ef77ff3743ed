package clearml

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	gosync "sync"
	"time"

	"github.com/cespare/xxhash/v2"
	"golang.org/x/sync/errgroup"
	"golang.org/x/time/rate"

	"github.com/yoloarchive/yoloarchive/archive"
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// RunTagPrefix starts the system tag that carries an archive's run id on
// its task; a sync looks it up before creating a task, so a re-sync or a
// sync from another machine never makes a second task.
const RunTagPrefix = "yoloarchive-run:"

// replacedTagPrefix marks a task that a --force sync replaced.
const replacedTagPrefix = "yoloarchive-replaced:"

// maxBatchBytes bounds one events.add_batch body, well under the 1 MiB a
// default nginx proxy accepts.
const maxBatchBytes = 512 << 10

// Destination replays archives into a ClearML server as tasks that look
// as if Ultralytics' ClearML callback had logged them live.
type Destination struct {
	cfg   Config
	opts  ysync.Options
	copts ysync.ClientOptions
	gate  ysync.Gate
	// limiter spaces the requests of every archive (nil: no limit).
	limiter *rate.Limiter
}

var _ ysync.Destination = (*Destination)(nil)

// New returns a Destination for the server in cfg (see LoadConfig).
func New(cfg Config, opts ysync.Options) *Destination {
	return &Destination{cfg: cfg, opts: opts}
}

// SetRate limits the requests of every archive synced through r, together,
// to perSecond (0 or less: no limit).
func (r *Destination) SetRate(perSecond float64) {
	if perSecond > 0 {
		r.limiter = rate.NewLimiter(rate.Limit(perSecond), max(1, int(perSecond)))
	}
}

// SetClientOptions tunes the HTTP client (retries, waits; tests).
func (r *Destination) SetClientOptions(o ysync.ClientOptions) { r.copts = o }

// Destination identifies the server for checkpoints and reports.
func (r *Destination) Destination() string {
	d := "clearml:" + redactHost(r.cfg.APIHost)
	if r.opts.Project != "" {
		d += "/" + r.opts.Project // another project is another destination
	}
	return d
}

// redactHost drops user information (user:password@) from a URL.
func redactHost(h string) string {
	u, err := url.Parse(h)
	if err != nil || u.User == nil {
		return h
	}
	u.User = nil
	return u.String()
}

// Tracker is "clearml".
func (r *Destination) Tracker() string { return "clearml" }

// Plan counts what a sync would send.
func (r *Destination) Plan(ctx context.Context, run *ysync.Run) (*ysync.Plan, error) {
	p, err := buildPlan(ctx, run, r.opts, "00000000000000000000000000000000", online(r.cfg.FilesHost))
	if err != nil {
		return nil, err
	}
	counts, err := p.count(ctx)
	if err != nil {
		return nil, err
	}
	return &counts, nil
}

type taskInfo struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Status     string   `json:"status"`
	Tags       []string `json:"tags"`
	SystemTags []string `json:"system_tags"`
	Models     struct {
		Output []struct {
			Name  string `json:"name"`
			Model string `json:"model"`
		} `json:"output"`
	} `json:"models"`
}

// replay is one archive's replay into its task.
type replay struct {
	*Destination
	c    *client
	run  *ysync.Run
	st   *ysync.State
	task *ysync.Task
	res  *ysync.Result
	pid  string
	t    taskInfo
	plan *plan
	// todo is what this sync sends: the plan, less what an earlier sync
	// of the same chain sent (Run.Prior).
	todo  *plan
	blobs *ysync.Blobs
	mu    gosync.Mutex
	// fresh is set when this sync created the task: nothing can be stored
	// under its keys yet, so uploads skip the size check.
	fresh bool
	// dry is set by Find: a dry run, whose ReadBack lists every change.
	dry bool
}

// Open prepares the replay of run into its task: find the task by the
// run's tag (or create it), send hyper-parameters, files, events and the
// model, read it all back, and only then mark the task completed.
func (r *Destination) Open(ctx context.Context, run *ysync.Run, st *ysync.State, task *ysync.Task) (ysync.Replay, error) {
	copts := r.copts
	if copts.Limiter == nil {
		copts.Limiter = r.limiter
	}
	if copts.Gate == nil {
		copts.Gate = &r.gate // one per destination: a 429 pauses every worker
	}
	return &replay{Destination: r, c: newClient(r.cfg, copts), run: run, st: st, task: task, res: &ysync.Result{}}, nil
}

// Close adds the requests, retries and skipped items to res.
func (s *replay) Close(res *ysync.Result) {
	res.Requests, res.Retries = s.c.http.Requests(), s.c.http.Retries()
	res.Skipped += s.res.Skipped
	if s.blobs != nil {
		s.blobs.Close()
	}
}

// FindOrCreate logs in, finds or makes the project, then the run's task.
func (s *replay) FindOrCreate(ctx context.Context, force bool) (ysync.Found, error) {
	if err := s.c.login(ctx); err != nil {
		return ysync.Found{}, err
	}
	var err error
	if s.pid, err = s.project(ctx, false); err != nil {
		return ysync.Found{}, err
	}
	created, err := s.findOrCreate(ctx, force)
	if err != nil {
		return ysync.Found{}, err
	}
	s.fresh = created
	return ysync.Found{ID: s.t.ID, URL: s.url(),
		Check: !created && s.t.Status == "completed" && !s.st.Has("edit")}, nil
}

// Find logs in and finds the project by name, then the run's task as
// FindOrCreate does, with reads only (auth.login, projects.get_all,
// tasks.get_all).
func (s *replay) Find(ctx context.Context) (ysync.Found, bool, error) {
	s.dry = true
	if err := s.c.login(ctx); err != nil {
		return ysync.Found{}, false, err
	}
	name := projectName(s.run.Info, s.opts, ysync.CallbackVersion(s.run.Info, s.opts.Version))
	var err error
	if s.pid, err = findProject(ctx, s.c, name); err != nil {
		return ysync.Found{}, false, err
	}
	if s.pid == "" {
		return ysync.Found{Changes: []string{fmt.Sprintf("project %q does not exist yet", name)}}, false, nil
	}
	var ts []taskInfo
	if s.st.RemoteID != "" {
		if ts, err = s.lookup(ctx, s.st.RemoteID); err != nil {
			return ysync.Found{}, false, err
		}
	}
	if len(ts) == 0 {
		s.st.Reset() // as FindOrCreate forgets a checkpoint whose task is gone
		if ts, err = s.lookup(ctx); err != nil {
			return ysync.Found{}, false, err
		}
	}
	if len(ts) == 0 {
		return ysync.Found{}, false, nil
	}
	s.t = ts[0]
	return ysync.Found{ID: s.t.ID, URL: s.url()}, true, nil
}

func (s *replay) url() string {
	return fmt.Sprintf("%s/projects/%s/experiments/%s/output/execution", s.cfg.WebHost, s.pid, s.t.ID)
}

// Ended reports whether the task was completed (or published) before
// this sync.
func (s *replay) Ended(context.Context) (bool, error) {
	return !s.fresh && (s.t.Status == "completed" || s.t.Status == "published"), nil
}

// Steps plans the task: edit, start, uploads, events, model.
func (s *replay) Steps(ctx context.Context) ([]ysync.Step, error) {
	var err error
	if s.plan, err = buildPlan(ctx, s.run, s.opts, s.t.ID, online(s.cfg.FilesHost)); err != nil {
		return nil, err
	}
	s.todo = s.plan
	if s.run.Prior != nil {
		prior, err := buildPlan(ctx, s.run.Prior, s.opts, s.t.ID, online(s.cfg.FilesHost))
		if err != nil {
			return nil, err
		}
		var skipped int
		if s.todo, skipped, err = since(ctx, s.plan, prior); err != nil {
			return nil, err
		}
		s.res.Skipped += skipped + len(s.plan.Uploads) - len(s.todo.Uploads)
	}
	return []ysync.Step{{Name: "edit", Once: true}, {Name: "start"}, {Name: "uploads"}, {Name: "events"}, {Name: "model"}}, nil
}

// Apply sends one step.
func (s *replay) Apply(ctx context.Context, step ysync.Step) error {
	switch step.Name {
	case "edit":
		return s.edit(ctx)
	case "start":
		return s.start(ctx)
	case "uploads":
		return s.uploads(ctx)
	case "events":
		return s.events(ctx)
	case "model":
		return s.model(ctx)
	}
	return fmt.Errorf("clearml: unknown step %q (internal error)", step.Name)
}

// ReadBack verifies the task against the plan. Any failure, a read
// included, makes the next sync send every step again. A dry run's
// lists every change (see changes).
func (s *replay) ReadBack(ctx context.Context) error {
	var err error
	if s.dry {
		err = s.changes(ctx)
	} else {
		err = s.verify(ctx)
	}
	var mm *ysync.MismatchError
	if err != nil && !errors.As(err, &mm) {
		err = &ysync.MismatchError{Msg: err.Error(), Err: err}
	}
	return err
}

// Finish completes the task when the run is final.
func (s *replay) Finish(ctx context.Context) error {
	if s.t.Status != "completed" && s.run.Final() {
		return s.c.call(ctx, "tasks.completed", map[string]any{"task": s.t.ID, "status_reason": "completed", "force": true}, nil)
	}
	return nil
}

// project finds the project by its exact name or creates it (nested
// names create their parents). The id is remembered in the checkpoint;
// lookAgain forgets it (the server no longer has it).
func (s *replay) project(ctx context.Context, lookAgain bool) (string, error) {
	name := projectName(s.run.Info, s.opts, ysync.CallbackVersion(s.run.Info, s.opts.Version))
	if id := s.st.Get("project:" + name); id != "" && !lookAgain {
		return id, nil
	}
	find := func() (string, error) {
		var out struct {
			Projects []struct {
				ID string `json:"id"`
			} `json:"projects"`
		}
		err := s.c.call(ctx, "projects.get_all", map[string]any{"name": "^" + regexp.QuoteMeta(name) + "$",
			"only_fields": []string{"id"}, "search_hidden": true}, &out)
		if err != nil || len(out.Projects) == 0 {
			return "", err
		}
		return out.Projects[0].ID, nil
	}
	id, err := find()
	if err != nil {
		return "", err
	}
	if id == "" {
		var out struct {
			ID string `json:"id"`
		}
		err = s.c.call(ysync.NotIdempotent(ctx), "projects.create", map[string]any{"name": name, "description": "",
			"tags": []string{}, "system_tags": []string{}}, &out)
		var ae *APIError
		if err != nil && (errors.As(err, &ae) || ysync.Transient(err)) {
			// A concurrent create (801) or an unknown outcome: look again.
			if id, err2 := find(); err2 == nil && id != "" {
				out.ID, err = id, nil
			}
		}
		if err != nil {
			return "", err
		}
		id = out.ID
	}
	return id, s.st.Set("project:"+name, id)
}

// invalidProject reports whether the server refused a project id it does
// not know (400/401 invalid_project_id).
func invalidProject(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.Code == 400 && ae.Subcode == 401
}

func (s *replay) runTag() string { return RunTagPrefix + s.run.RunID() }

// lookup returns the tasks of the project tagged with the run id.
func (s *replay) lookup(ctx context.Context, ids ...string) ([]taskInfo, error) {
	var out struct {
		Tasks []taskInfo `json:"tasks"`
	}
	q := map[string]any{"only_fields": []string{"id", "name", "status", "tags", "system_tags", "models"}}
	if len(ids) > 0 {
		q["id"] = ids
	} else {
		q["project"] = []string{s.pid}
		q["system_tags"] = []string{s.runTag()}
		q["order_by"] = []string{"created"} // the first task made for the run wins
	}
	if err := s.c.call(ctx, "tasks.get_all", q, &out); err != nil {
		return nil, err
	}
	return out.Tasks, nil
}

// findOrCreate finds the run's task (checkpoint, then tag lookup) or
// creates it. With --force the tagged tasks are retagged as replaced and
// a new task is made.
func (s *replay) findOrCreate(ctx context.Context, force bool) (created bool, err error) {
	if s.st.RemoteID != "" && !force {
		ts, err := s.lookup(ctx, s.st.RemoteID)
		if err != nil {
			return false, err
		}
		if len(ts) == 1 {
			s.t = ts[0]
			return false, nil
		}
		// Deleted on the server: forget the checkpoint, look again.
		s.st.Reset()
	}
	ts, err := s.lookup(ctx)
	if err != nil {
		return false, err
	}
	if len(ts) > 0 && !force {
		s.t = ts[0]
		return false, nil
	}
	for _, t := range ts {
		tags := []string{replacedTagPrefix + s.run.RunID()}
		for _, x := range t.SystemTags {
			if x != s.runTag() {
				tags = append(tags, x)
			}
		}
		if err := s.c.call(ctx, "tasks.update", map[string]any{"task": t.ID, "system_tags": tags}, nil); err != nil {
			return false, err
		}
	}
	p, err := buildPlan(ctx, s.run, s.opts, "00000000000000000000000000000000", online(s.cfg.FilesHost))
	if err != nil {
		return false, err
	}
	body := map[string]any{"name": p.Name, "type": "training", "project": s.pid, "tags": p.Tags,
		"system_tags": []string{s.runTag()}, "comment": p.Comment, "runtime": p.Runtime}
	if p.Hyperparams != nil {
		body["hyperparams"] = p.Hyperparams
	}
	var out struct {
		ID string `json:"id"`
	}
	for attempt := 0; ; attempt++ {
		err = s.c.call(ysync.NotIdempotent(ctx), "tasks.create", body, &out)
		if invalidProject(err) && attempt == 0 {
			// The remembered project was deleted on the server: find
			// or make it again.
			if s.pid, err = s.project(ctx, true); err != nil {
				return false, err
			}
			body["project"] = s.pid
			continue
		}
		if err == nil || !ysync.Transient(err) || attempt == 4 || s.c.http.Down() {
			break
		}
		// The create may have reached the server: look before retrying.
		if ts, err2 := s.lookup(ctx); err2 == nil && len(ts) > 0 {
			s.t = ts[0]
			return false, nil
		}
		if err := ysync.Sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond); err != nil {
			return false, err
		}
	}
	if err != nil {
		return false, err
	}
	// Another machine may have created the run's task at the same moment:
	// the first one made wins everywhere; ours is archived.
	if ts, err := s.lookup(ctx); err == nil && len(ts) > 0 && ts[0].ID != out.ID {
		tags := []string{"archived", "yoloarchive-duplicate:" + s.run.RunID()}
		if err := s.c.call(ctx, "tasks.update", map[string]any{"task": out.ID, "system_tags": tags}, nil); err != nil {
			return false, err
		}
		s.t = ts[0]
		return false, nil
	}
	s.t = taskInfo{ID: out.ID, Name: p.Name, Status: "created", Tags: p.Tags, SystemTags: []string{s.runTag()}}
	s.st.RemoteID = out.ID
	return true, s.st.Mark("edit")
}

// edit brings an existing task's hyper-parameters, comment, runtime
// properties and tags up to date (tasks.edit with force works in any
// status).
func (s *replay) edit(ctx context.Context) error {
	tags := append([]string{}, s.t.Tags...)
	for _, t := range s.plan.Tags {
		if !contains(tags, t) {
			tags = append(tags, t)
		}
	}
	body := map[string]any{"task": s.t.ID, "force": true, "comment": s.plan.Comment, "runtime": s.plan.Runtime, "tags": tags}
	if s.plan.Hyperparams != nil {
		body["hyperparams"] = s.plan.Hyperparams
	}
	return s.c.call(ctx, "tasks.edit", body, nil)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// start moves the task to in_progress, where models can be attached.
func (s *replay) start(ctx context.Context) error {
	if s.t.Status == "in_progress" {
		return nil
	}
	body := map[string]any{"task": s.t.ID}
	if s.t.Status != "created" {
		body["force"] = true
	}
	if err := s.c.call(ctx, "tasks.started", body, nil); err != nil {
		return err
	}
	s.t.Status = "in_progress"
	return nil
}

// uploads stores the debug and plot images (4 at a time); an object of
// the same size already stored is skipped.
func (s *replay) uploads(ctx context.Context) error {
	var todo []upload
	var digests []string
	for _, u := range s.todo.Uploads {
		if !s.st.Has("up:" + u.Key) {
			todo = append(todo, u)
			digests = append(digests, u.Digest)
		}
	}
	if s.plan.Model != nil && !s.st.Has("model") {
		digests = append(digests, s.plan.Model.Digest)
	}
	if len(todo) == 0 && len(digests) == 0 {
		return nil
	}
	s.task.Stage("extract", 0)
	blobs, err := s.run.Extract(ctx, dedupe(digests))
	if err != nil {
		return err
	}
	s.blobs = blobs
	s.task.Stage("upload", int64(len(todo)))
	// Four uploads at a time; the first failure stops the others.
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4)
	for _, u := range todo {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			if err := s.put(gctx, u); err != nil {
				return err
			}
			s.task.Add(1)
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return ctx.Err()
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range list {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// put uploads one file unless the server already holds it at that size.
func (s *replay) put(ctx context.Context, u upload) error {
	data, size := u.Data, u.Size
	if strings.HasPrefix(u.ContentType, "convert:") {
		f, err := s.blobs.Open(u.Digest)
		if err != nil {
			return err
		}
		data, err = toPNG(f, archive.BudgetFrom(ctx))
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: converting %s to PNG: %v", s.run.Path, u.Key, err)
		}
		size = int64(len(data))
	}
	have := int64(-1)
	if !s.fresh {
		var err error
		if have, err = s.c.fileSize(ctx, u.Key); err != nil {
			return err
		}
	}
	if have == size {
		s.mu.Lock()
		s.res.Skipped++
		s.mu.Unlock()
		return s.st.Mark("up:" + u.Key)
	}
	open := func() (io.ReadCloser, error) {
		if data != nil {
			return io.NopCloser(bytes.NewReader(data)), nil
		}
		return s.blobs.Open(u.Digest)
	}
	if err := s.c.upload(ctx, u.Key, u.ContentType, size, open); err != nil {
		return err
	}
	return s.st.Mark("up:" + u.Key)
}

// events sends the events, then the console log, as JSON lines in
// batches under maxBatchBytes; each batch is checkpointed. Re-sent metric
// events overwrite; a log batch is re-sent only when the process stopped
// between sending it and recording its checkpoint.
func (s *replay) events(ctx context.Context) error {
	if err := s.sendEvents(ctx, "events", s.todo.each); err != nil {
		return err
	}
	if len(s.todo.Logs) == 0 {
		return nil
	}
	return s.sendEvents(ctx, "logs", s.todo.eachLog)
}

// sendEvents sends the events of gen in batches "stage:i/n", generated as
// they are sent: a first pass over gen counts the events and batches (the
// checkpoint names the batch count), the second sends the batches the
// checkpoint lacks. gen is deterministic (the archive does not change),
// so both passes, and every later sync, make the same batches.
//
// The "events" batches are named by their content too
// ("events:i/n:<xxhash64 of the body>"): a checkpoint whose batch i held
// other events (written by an older plan, or under other options) is
// then sent again, not skipped; events of the same id overwrite. Log
// batches keep the plain names: ClearML appends log events, so a batch
// sent again would repeat its lines.
func (s *replay) sendEvents(ctx context.Context, stage string, gen generator) error {
	le := newLineEncoder(s.todo.task)
	total, batches := 0, 0
	err := batchLines(ctx, le, gen, maxBatchBytes, true, func(_ []byte, n int) error {
		total += n
		batches++
		return nil
	})
	if err != nil {
		return err
	}
	s.task.Stage(stage, int64(total))
	i := 0
	return batchLines(ctx, le, gen, maxBatchBytes, false, func(body []byte, n int) error {
		step := fmt.Sprintf("%s:%d/%d", stage, i, batches)
		if stage == "events" {
			step += fmt.Sprintf(":%016x", xxhash.Sum64(body))
		}
		i++
		if s.st.Has(step) {
			s.task.Add(int64(n))
			return nil
		}
		var out struct {
			Added  int `json:"added"`
			Errors int `json:"errors"`
		}
		if err := s.c.send(ctx, "events.add_batch", body, "application/json-lines", &out); err != nil {
			return err
		}
		if out.Errors > 0 || out.Added != n {
			return fmt.Errorf("ClearML at %s added %d of %d events of batch %d (%d errors): run again to resend", redactHost(s.cfg.APIHost), out.Added, n, i-1, out.Errors)
		}
		if err := s.st.Mark(step); err != nil {
			return err
		}
		s.task.Add(int64(n))
		return nil
	})
}

// model uploads best.pt and registers it as the task's output model
// "best", reusing the model made by an earlier attempt.
func (s *replay) model(ctx context.Context) error {
	m := s.plan.Model
	if m == nil || s.st.Has("model") {
		return nil
	}
	s.task.Stage("model", 0)
	if err := s.put(ctx, *m); err != nil {
		return err
	}
	uri := s.cfg.FilesHost + "/" + m.Key
	id, err := s.findModel(ctx, uri)
	if err != nil {
		return err
	}
	if id == "" {
		var out struct {
			ID string `json:"id"`
		}
		body := map[string]any{"uri": uri, "name": s.plan.Name, "framework": "PyTorch", "task": s.t.ID,
			"project": s.pid, "comment": s.plan.ModelComment}
		var err error
		for attempt := 0; ; attempt++ {
			err = s.c.call(ysync.NotIdempotent(ctx), "models.create", body, &out)
			if err == nil || !ysync.Transient(err) || attempt == 4 || s.c.http.Down() {
				break
			}
			if id, err2 := s.findModel(ctx, uri); err2 == nil && id != "" {
				out.ID, err = id, nil
				break
			}
			if err := ysync.Sleep(ctx, time.Duration(attempt+1)*200*time.Millisecond); err != nil {
				return err
			}
		}
		if err != nil {
			return err
		}
		id = out.ID
	}
	if err := s.st.Set("model", id); err != nil {
		return err
	}
	if err := s.c.call(ctx, "tasks.add_or_update_model", map[string]any{"task": s.t.ID, "name": "best", "type": "output", "model": id}, nil); err != nil {
		return err
	}
	return s.st.Mark("model")
}

func (s *replay) findModel(ctx context.Context, uri string) (string, error) {
	var out struct {
		Models []struct {
			ID  string `json:"id"`
			URI string `json:"uri"`
		} `json:"models"`
	}
	if err := s.c.call(ctx, "models.get_all", map[string]any{"task": []string{s.t.ID}, "only_fields": []string{"id", "uri"}}, &out); err != nil {
		return "", err
	}
	for _, m := range out.Models {
		if m.URI == uri {
			return m.ID, nil
		}
	}
	return "", nil
}

// verify reads the task back: every planned event with its value, every
// file at its size and the output model must be on the server.
func (s *replay) verify(ctx context.Context) error {
	d, err := s.readBack(ctx, false)
	if err != nil {
		return err
	}
	switch {
	case d.events > 0:
		return fmt.Errorf("read-back of ClearML task %s: %d of %d events missing or different (first: %s): run again to resend", s.t.ID, d.events, d.planned, d.first)
	case len(d.files) > 0:
		return fmt.Errorf("read-back of ClearML task %s: file %s is missing on %s: run again to upload it", s.t.ID, d.files[0], redactHost(s.cfg.FilesHost))
	case d.noModel:
		return fmt.Errorf("read-back of ClearML task %s: no output model \"best\": run again to register it", s.t.ID)
	}
	return nil
}

// readBackDiff is what the task lacks of the plan.
type readBackDiff struct {
	// events counts the planned events missing or different on the
	// server, by type in eventsByType; first is the smallest of their
	// ids (with " (value differs)" for one that differs); planned counts
	// the planned ids, by type in plannedByType.
	events        int
	eventsByType  map[string]int
	first         string
	planned       int
	plannedByType map[string]int
	// files are the keys of the planned files missing (or of another
	// size) on the file server.
	files []string
	// noModel is set when an output model "best" is planned and missing.
	noModel bool
}

// readBack reads the task back and compares it with the plan: events by
// id with their values or figures, files by size, the output model. Unless
// full, it stops at the first of these that differs.
func (s *replay) readBack(ctx context.Context, full bool) (*readBackDiff, error) {
	d := &readBackDiff{eventsByType: map[string]int{}, plannedByType: map[string]int{}}
	if err := s.compareEvents(ctx, d); err != nil {
		return nil, err
	}
	if d.events > 0 && !full {
		return d, nil
	}
	for _, u := range s.plan.Uploads {
		size, err := s.c.fileSize(ctx, u.Key)
		if err != nil {
			return nil, err
		}
		if size < 0 || (!strings.HasPrefix(u.ContentType, "convert:") && size != u.Size) {
			d.files = append(d.files, u.Key)
			if !full {
				return d, nil
			}
		}
	}
	if s.plan.Model != nil {
		ts, err := s.lookup(ctx, s.t.ID)
		if err != nil {
			return nil, err
		}
		ok := false
		for _, t := range ts {
			for _, m := range t.Models.Output {
				ok = ok || (m.Name == "best" && m.Model != "")
			}
		}
		d.noModel = !ok
	}
	return d, nil
}

func toInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case int:
		return int64(x)
	case float64:
		return int64(x)
	case json.Number:
		n, _ := x.Int64()
		return n
	}
	return 0
}

func sameNumber(a, b any) bool {
	fa, fb := toFloat(a), toFloat(b)
	return fa == fb || (fa-fb < 1e-12 && fb-fa < 1e-12)
}

func toFloat(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case int64:
		return float64(x)
	case int:
		return float64(x)
	case json.Number:
		f, _ := x.Float64()
		return f
	}
	return 0
}

// missing adds n events of type typ, the smallest of whose ids is first,
// to those missing or different.
func (d *readBackDiff) missing(typ string, n int, first string) {
	d.events += n
	d.eventsByType[typ] += n
	if d.first == "" || first < d.first {
		d.first = first
	}
}

// since returns the part of p that prior (the plan of the chain's links an
// earlier sync sent) lacks, and how many of p's events it leaves out:
// events of an id whose content differs (timestamps aside: they are
// estimates that move as the run grows) and uploads of other content. The
// model and settings are always in it.
//
// An id logged twice (a finished run's final validation re-logs the last
// epoch's metrics) holds its later content on the server, so the contents
// compared are each plan's last of the id: when they are equal, every
// event of the id is left out; otherwise every one is sent, in order, and
// the server ends with p's last. The prior ids are kept as 64-bit hashes
// of the id with the two last contents' hashes (not the events), and p's
// events are filtered as they are generated.
func since(ctx context.Context, p, prior *plan) (*plan, int, error) {
	out := *p
	type lastSums struct {
		prior, cur uint64
		n          int // p's events of the id
	}
	old := map[uint64]lastSums{} // values, not pointers: about 53 bytes an id (21 MB for 390k)
	err := prior.each(ctx, func(pt *point) error {
		old[pt.id().idSum()] = lastSums{prior: pt.contentSum()}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	err = p.each(ctx, func(pt *point) error {
		id := pt.id().idSum()
		if l, ok := old[id]; ok {
			l.cur = pt.contentSum()
			l.n++
			old[id] = l
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	skipped := 0
	for id, l := range old {
		switch {
		case l.n == 0:
			delete(old, id) // not in p: never asked
		case l.prior == l.cur:
			skipped += l.n
		}
	}
	out.skip = func(pt *point) bool {
		l, ok := old[pt.id().idSum()]
		return ok && l.prior == l.cur
	}
	// Log events have no id (ClearML appends them): each line, time
	// included, is sent as many times as the new plan has it more than
	// the prior one.
	sentLogs := map[string]int{}
	for _, e := range prior.Logs {
		b, _ := json.Marshal(e)
		sentLogs[string(b)]++
	}
	out.Logs = nil
	for _, e := range p.Logs {
		b, _ := json.Marshal(e)
		if sentLogs[string(b)] > 0 {
			sentLogs[string(b)]--
			continue
		}
		out.Logs = append(out.Logs, e)
	}
	sent := map[string]bool{}
	for _, u := range prior.Uploads {
		sent[fmt.Sprintf("%s\x00%s\x00%d", u.Key, u.Digest, u.Size)] = true
	}
	out.Uploads = nil
	for _, u := range p.Uploads {
		if !sent[fmt.Sprintf("%s\x00%s\x00%d", u.Key, u.Digest, u.Size)] {
			out.Uploads = append(out.Uploads, u)
		}
	}
	return &out, skipped, nil
}

func eventContent(e event) string {
	c := make(map[string]any, len(e))
	for k, v := range e {
		if k != "timestamp" {
			c[k] = v
		}
	}
	b, _ := json.Marshal(c)
	return string(b)
}
