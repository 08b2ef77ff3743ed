package clearmltest

import (
	"time"
)

// Project is a stored project.
type Project struct {
	ID string
	// Name is the full path, e.g. "Ultralytics/sub".
	Name string
	// Basename is the last path component of Name.
	Basename string
	// Parent is the id of the parent project, "" for a root project.
	Parent      string
	Description string
	Tags        []string
	SystemTags  []string
	// DefaultOutputDestination is default_output_destination.
	DefaultOutputDestination string
	Created                  time.Time
}

// ParamItem is one hyperparameter (params_item).
type ParamItem struct {
	Section     string
	Name        string
	Value       string
	Type        string
	Description string
}

// ConfigItem is one configuration object (configuration_item).
type ConfigItem struct {
	Name        string
	Value       string
	Type        string
	Description string
}

// ModelRef is one entry of a task's models.input or models.output list.
type ModelRef struct {
	Name  string
	Model string
}

// Task is a stored task.
type Task struct {
	ID            string
	Name          string
	Type          string
	Project       string
	Status        string
	StatusReason  string
	StatusMessage string
	Tags          []string
	SystemTags    []string
	Comment       string
	Parent        string
	OutputDest    string
	// Hyperparams maps section → name → item.
	Hyperparams map[string]map[string]ParamItem
	// Configuration maps name → item.
	Configuration map[string]ConfigItem
	Runtime       map[string]string
	// Models is the models.output list; InputModels is models.input.
	Models      []ModelRef
	InputModels []ModelRef
	// Artifacts are the task artifacts, keyed by (Key, Mode), in order of
	// first addition.
	Artifacts []Artifact
	// Execution, Script and Container are stored as sent (decoded JSON).
	Execution     map[string]any
	Script        map[string]any
	Container     map[string]any
	LastIteration int64
	Created       time.Time
	Started       time.Time
	Completed     time.Time
	LastUpdate    time.Time
	// Pings counts tasks.ping calls.
	Pings int
}

// Artifact is one task artifact (tasks.add_or_update_artifacts). Raw is the
// artifact object as sent, with mode defaulted to "output".
type Artifact struct {
	Key         string
	Type        string
	Mode        string
	URI         string
	Hash        string
	ContentSize int64
	Timestamp   int64
	Raw         map[string]any
}

// Event is one stored event. Raw holds the event as received (decoded JSON;
// integral numbers are int64, others float64), with "timestamp" (server
// time in ms), "iter" (0), "metric" and "variant" ("", except for log
// events) and "worker" (from X-ClearML-Worker) filled in when absent;
// get_task_events returns Raw.
type Event struct {
	// ID is the server event id (md5 for scalars, images, plots; random
	// for log events and vectors).
	ID        string
	Raw       map[string]any
	Type      string
	Task      string
	Timestamp int64
	Iter      int64
	Metric    string
	Variant   string
	Value     float64
	Key       string
	URL       string
	PlotStr   string
	Level     string
	Worker    string
	Msg       string
	// ModelEvent is true for model events (Task is then a model id).
	ModelEvent bool
	seq        int64
	hasIter    bool // the event came with an iter (log events do not)
}

// Model is a stored model.
type Model struct {
	ID         string
	Name       string
	URI        string
	Framework  string
	Task       string
	Project    string
	Parent     string
	Comment    string
	Tags       []string
	SystemTags []string
	Ready      bool
	Public     bool
	Labels     map[string]int64
	Design     map[string]any
	Metadata   map[string]any
	Iteration  int64
	Created    time.Time
	LastUpdate time.Time
}

func cloneStrings(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string{}, s...)
}

func (t Task) clone() Task {
	c := t
	c.Tags = cloneStrings(t.Tags)
	c.SystemTags = cloneStrings(t.SystemTags)
	c.Hyperparams = map[string]map[string]ParamItem{}
	for s, m := range t.Hyperparams {
		mm := map[string]ParamItem{}
		for k, v := range m {
			mm[k] = v
		}
		c.Hyperparams[s] = mm
	}
	c.Configuration = map[string]ConfigItem{}
	for k, v := range t.Configuration {
		c.Configuration[k] = v
	}
	c.Runtime = map[string]string{}
	for k, v := range t.Runtime {
		c.Runtime[k] = v
	}
	c.Models = append([]ModelRef(nil), t.Models...)
	c.InputModels = append([]ModelRef(nil), t.InputModels...)
	c.Artifacts = make([]Artifact, len(t.Artifacts))
	for i, a := range t.Artifacts {
		a.Raw = deepCopyMap(a.Raw)
		c.Artifacts[i] = a
	}
	c.Execution = deepCopyMap(t.Execution)
	c.Script = deepCopyMap(t.Script)
	c.Container = deepCopyMap(t.Container)
	return c
}

func (m Model) clone() Model {
	c := m
	c.Tags = cloneStrings(m.Tags)
	c.SystemTags = cloneStrings(m.SystemTags)
	if m.Labels != nil {
		c.Labels = map[string]int64{}
		for k, v := range m.Labels {
			c.Labels[k] = v
		}
	}
	c.Design = deepCopyMap(m.Design)
	c.Metadata = deepCopyMap(m.Metadata)
	return c
}

func (p Project) clone() Project {
	c := p
	c.Tags = cloneStrings(p.Tags)
	c.SystemTags = cloneStrings(p.SystemTags)
	return c
}

func (e Event) clone() Event {
	c := e
	c.Raw = deepCopyMap(e.Raw)
	return c
}

func deepCopyMap(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, v := range m {
		c[k] = deepCopy(v)
	}
	return c
}

func deepCopy(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return deepCopyMap(x)
	case []any:
		c := make([]any, len(x))
		for i, e := range x {
			c[i] = deepCopy(e)
		}
		return c
	}
	return v
}
