package filestore

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Status is a run's status as meta.yaml stores it: the integer of
// MLflow's RunStatus enum (mlflow/protos/service.proto, enum RunStatus;
// file_store.py _make_persisted_run_info_dict stores the integer).
type Status int

// The run statuses.
const (
	Running   Status = 1
	Scheduled Status = 2
	Finished  Status = 3
	Failed    Status = 4
	Killed    Status = 5
)

var statusNames = map[Status]string{Running: "RUNNING", Scheduled: "SCHEDULED", Finished: "FINISHED", Failed: "FAILED", Killed: "KILLED"}

// String is the status's name ("FINISHED").
func (s Status) String() string {
	if n, ok := statusNames[s]; ok {
		return n
	}
	return "Status(" + strconv.Itoa(int(s)) + ")"
}

// ParseStatus returns the status of a name ("FINISHED").
func ParseStatus(name string) (Status, error) {
	for s, n := range statusNames {
		if n == name {
			return s, nil
		}
	}
	return 0, fmt.Errorf("unknown run status %q (RUNNING, SCHEDULED, FINISHED, FAILED or KILLED)", name)
}

// Lifecycle stages (mlflow/entities/lifecycle_stage.py).
const (
	Active  = "active"
	Deleted = "deleted"
)

// SourceTypeLocal is SourceType.LOCAL, which file_store.py writes as
// every run's source_type.
const SourceTypeLocal = 4

// Experiment is an experiment's meta.yaml.
type Experiment struct {
	ID               string
	Name             string
	ArtifactLocation string
	LifecycleStage   string
	// CreationTime and LastUpdateTime are Unix milliseconds.
	CreationTime   int64
	LastUpdateTime int64
}

// RunInfo is a run's meta.yaml.
type RunInfo struct {
	RunID        string
	RunName      string
	ExperimentID string
	UserID       string
	Status       Status
	// StartTime and EndTime are Unix milliseconds; EndTime is nil while
	// the run has not ended.
	StartTime      int64
	EndTime        *int64
	ArtifactURI    string
	LifecycleStage string
	// DeletedTime is set for a deleted run. A run being created carries
	// "deleted_time: null" (file_store.py create_run), which [RunWriter]
	// writes too; rewrites drop it (_overwrite_run_info).
	DeletedTime *int64
}

// yaml building: a mapping of sorted keys, strings quoted the way PyYAML's
// safe_dump quotes them (single quotes where a plain scalar would read
// back as something else), as file_utils.py write_yaml calls
// yaml.dump(..., default_flow_style=False, sort_keys=True).
type field struct {
	key  string
	node *yaml.Node
}

func str(s string) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
	out, err := yaml.Marshal(s)
	if err == nil && (bytes.HasPrefix(out, []byte(`"`)) || bytes.HasPrefix(out, []byte(`'`))) && !strings.ContainsAny(s, "\n\r\t\x00") {
		n.Style = yaml.SingleQuotedStyle
	}
	return n
}

func num(v int64) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: strconv.FormatInt(v, 10)}
}

func optNum(v *int64) *yaml.Node {
	if v == nil {
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	return num(*v)
}

func encodeYAML(fields []field) ([]byte, error) {
	m := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fields {
		m.Content = append(m.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, f.node)
	}
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{m}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// experimentYAML is dict(experiment) without tags (file_store.py
// _create_experiment_with_id), keys sorted.
func experimentYAML(e Experiment) ([]byte, error) {
	return encodeYAML([]field{
		{"artifact_location", str(e.ArtifactLocation)},
		{"creation_time", num(e.CreationTime)},
		{"experiment_id", str(e.ID)},
		{"last_update_time", num(e.LastUpdateTime)},
		{"lifecycle_stage", str(e.LifecycleStage)},
		{"name", str(e.Name)},
	})
}

// runYAML is _make_persisted_run_info_dict(run_info): dict(run_info) plus
// tags: [], the integer status, source_type 4 and empty source_name,
// entry_point_name and source_version; deleted_time when withDeleted.
func runYAML(r RunInfo, withDeleted bool) ([]byte, error) {
	fs := []field{{"artifact_uri", str(r.ArtifactURI)}}
	if withDeleted {
		fs = append(fs, field{"deleted_time", optNum(r.DeletedTime)})
	}
	fs = append(fs,
		field{"end_time", optNum(r.EndTime)},
		field{"entry_point_name", str("")},
		field{"experiment_id", str(r.ExperimentID)},
		field{"lifecycle_stage", str(r.LifecycleStage)},
		field{"run_id", str(r.RunID)},
		field{"run_name", str(r.RunName)},
		field{"run_uuid", str(r.RunID)},
		field{"source_name", str("")},
		field{"source_type", num(SourceTypeLocal)},
		field{"source_version", str("")},
		field{"start_time", num(r.StartTime)},
		field{"status", num(int64(r.Status))},
		field{"tags", &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}},
		field{"user_id", str(r.UserID)},
	)
	return encodeYAML(fs)
}

// idValue is an id that older MLflow versions stored as an integer
// (_read_persisted_experiment_dict casts it to str).
type idValue string

func (v *idValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode || (n.Tag != "!!str" && n.Tag != "!!int") {
		return fmt.Errorf("line %d: want a string or an integer id", n.Line)
	}
	*v = idValue(n.Value)
	return nil
}

// strValue is a string field that a null leaves empty.
type strValue string

func (v *strValue) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("line %d: want a string", n.Line)
	}
	if n.Tag != "!!null" {
		*v = strValue(n.Value)
	}
	return nil
}

type experimentMeta struct {
	ArtifactLocation strValue `yaml:"artifact_location"`
	CreationTime     *int64   `yaml:"creation_time"`
	ExperimentID     *idValue `yaml:"experiment_id"`
	LastUpdateTime   *int64   `yaml:"last_update_time"`
	LifecycleStage   strValue `yaml:"lifecycle_stage"`
	Name             *string  `yaml:"name"`
}

type runMeta struct {
	ArtifactURI    strValue `yaml:"artifact_uri"`
	DeletedTime    *int64   `yaml:"deleted_time"`
	EndTime        *int64   `yaml:"end_time"`
	ExperimentID   *idValue `yaml:"experiment_id"`
	LifecycleStage strValue `yaml:"lifecycle_stage"`
	RunID          strValue `yaml:"run_id"`
	RunName        strValue `yaml:"run_name"`
	RunUUID        strValue `yaml:"run_uuid"`
	StartTime      *int64   `yaml:"start_time"`
	Status         *int     `yaml:"status"`
	UserID         strValue `yaml:"user_id"`
}

func decodeExperiment(b []byte) (Experiment, error) {
	var m experimentMeta
	if err := yaml.Unmarshal(b, &m); err != nil {
		return Experiment{}, err
	}
	if m.ExperimentID == nil || *m.ExperimentID == "" {
		return Experiment{}, fmt.Errorf("no experiment_id")
	}
	if m.Name == nil {
		return Experiment{}, fmt.Errorf("no name")
	}
	e := Experiment{ID: string(*m.ExperimentID), Name: *m.Name, ArtifactLocation: string(m.ArtifactLocation), LifecycleStage: string(m.LifecycleStage)}
	if e.LifecycleStage == "" {
		e.LifecycleStage = Active
	}
	if m.CreationTime != nil {
		e.CreationTime = *m.CreationTime
	}
	if m.LastUpdateTime != nil {
		e.LastUpdateTime = *m.LastUpdateTime
	}
	return e, nil
}

func decodeRun(b []byte) (RunInfo, error) {
	var m runMeta
	if err := yaml.Unmarshal(b, &m); err != nil {
		return RunInfo{}, err
	}
	if m.ExperimentID == nil {
		return RunInfo{}, fmt.Errorf("no experiment_id")
	}
	r := RunInfo{RunID: string(m.RunID), RunName: string(m.RunName), ExperimentID: string(*m.ExperimentID),
		UserID: string(m.UserID), Status: Running, EndTime: m.EndTime, ArtifactURI: string(m.ArtifactURI),
		LifecycleStage: string(m.LifecycleStage), DeletedTime: m.DeletedTime}
	if r.RunID == "" {
		r.RunID = string(m.RunUUID)
	}
	if r.RunID == "" {
		return RunInfo{}, fmt.Errorf("no run_id")
	}
	if r.LifecycleStage == "" {
		r.LifecycleStage = Active // _read_persisted_run_info_dict
	}
	if m.Status != nil {
		r.Status = Status(*m.Status)
		if _, ok := statusNames[r.Status]; !ok {
			return RunInfo{}, fmt.Errorf("unknown status %d", *m.Status)
		}
	}
	if m.StartTime != nil {
		r.StartTime = *m.StartTime
	}
	return r, nil
}
