package clearmltest

// Request schemas, from apiserver/schema/services/*.conf, restricted to the
// fields a replay client may send. Every schema is strict.

var taskTypes = []string{"training", "testing", "inference", "data_processing", "application",
	"monitor", "controller", "optimizer", "service", "qc", "custom"}

var eventTypes = []string{"training_stats_scalar", "training_stats_vector", "training_debug_image", "plot", "log"}

var logLevels = []string{"notset", "debug", "verbose", "info", "warn", "warning", "error", "fatal", "critical"}

// paramsItem is params_item; withKeys makes section and name required.
func paramsItem(withKeys bool) *field {
	s := schema{
		"section":     fStr(),
		"name":        fStr(),
		"value":       fStr(),
		"type":        fStr(),
		"description": fStr(),
	}
	if withKeys {
		s["section"] = fStr().req()
		s["name"] = fStr().req()
	}
	return fObj(s)
}

// configItem is configuration_item; withName makes name required.
func configItem(withName bool) *field {
	s := schema{
		"name":        fStr(),
		"value":       fStr(),
		"type":        fStr(),
		"description": fStr(),
	}
	if withName {
		s["name"] = fStr().req()
	}
	return fObj(s)
}

var modelRef = fObj(schema{"name": fStr(), "model": fStr().req(), "updated": fStr()})

var taskModels = fObj(schema{"input": fArr(modelRef), "output": fArr(modelRef)})

// taskFields are the fields tasks.create and tasks.edit share.
func taskFields() schema {
	return schema{
		"name":          fStr().min(3),
		"type":          fEnum(taskTypes...),
		"project":       fStr(),
		"tags":          fStrs(),
		"system_tags":   fStrs(),
		"comment":       fStr(),
		"parent":        fStr(),
		"output_dest":   fStr(),
		"execution":     fAnyObj(),
		"script":        fAnyObj(),
		"hyperparams":   fMap(fMap(paramsItem(false))),
		"configuration": fMap(configItem(false)),
		"models":        taskModels,
		"container":     fMap(fStr()),
		"runtime":       fMap(fStr()),
	}
}

func with(s schema, extra schema) schema {
	out := schema{}
	for k, v := range s {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

var statusChange = schema{
	"task":           fStr().req(),
	"force":          fBool(),
	"status_reason":  fStr(),
	"status_message": fStr(),
}

var artifactItem = fObj(schema{
	"key":          fStr().req(),
	"type":         fStr().req(),
	"mode":         fEnum("input", "output"),
	"uri":          fStr(),
	"hash":         fStr(),
	"content_size": fInt(),
	"timestamp":    fInt(),
	"type_data":    fObj(schema{"preview": fStr(), "content_type": fStr(), "data_hash": fStr()}),
	"display_data": fArr(fArr(fStr())),
})

var metricsFilter = fObj(schema{"metric": fStr().req(), "variants": fStrs()})

var eventSchema = schema{
	"type":            fEnum(eventTypes...).req(),
	"task":            fStr().req(),
	"timestamp":       fNum(),
	"iter":            fInt(),
	"metric":          fStr(),
	"variant":         fStr(),
	"value":           fNum(),
	"key":             fStr(),
	"url":             fStr(),
	"plot_str":        fStr(),
	"level":           fEnum(logLevels...),
	"worker":          fStr(),
	"msg":             fStr(),
	"model_event":     fBool(),
	"allow_locked":    fBool(),
	"x_axis_label":    fStr(),
	"skip_validation": fBool(),
}

func modelFields() schema {
	return schema{
		"uri":         fStr(),
		"name":        fStr(),
		"comment":     fStr(),
		"tags":        fStrs(),
		"system_tags": fStrs(),
		"framework":   fStr(),
		"design":      fAnyObj(),
		"labels":      fMap(fInt()),
		"ready":       fBool(),
		"public":      fBool(),
		"project":     fStr(),
		"parent":      fStr(),
		"task":        fStr(),
		"metadata":    fAnyObj(),
	}
}

var getAllCommon = schema{
	"id":          fStrs(),
	"name":        fStr(),
	"only_fields": fStrs(),
	"page":        fInt(),
	"page_size":   fInt(),
	"order_by":    fStrs(),
	"tags":        fStrs(),
	"system_tags": fStrs(),
}

func init() {
	taskCreate := taskFields()
	taskCreate["name"] = taskCreate["name"].req()
	taskCreate["type"] = taskCreate["type"].req()

	modelCreate := modelFields()
	modelCreate["uri"] = modelCreate["uri"].req()
	modelCreate["name"] = modelCreate["name"].req()

	endpoints = map[string]*endpoint{
		"auth.login": {minVer: "2.1", schema: schema{"expiration_sec": fInt()}, h: (*Server).authLogin},

		"projects.get_all": {minVer: "2.1", schema: with(getAllCommon, schema{
			"search_hidden": fBool(), "shallow_search": fBool(), "parent": fStrs(),
		}), h: (*Server).projectsGetAll},
		"projects.create": {minVer: "2.1", schema: schema{
			"name": fStr().req().min(3), "description": fStr(), "tags": fStrs(), "system_tags": fStrs(),
			"default_output_destination": fStr(),
		}, h: (*Server).projectsCreate},

		"tasks.get_all": {minVer: "2.1", schema: with(getAllCommon, schema{
			"project": fStrs(), "status": fStrs(), "type": fStrs(), "parent": fStr(), "search_hidden": fBool(),
		}), h: (*Server).tasksGetAll},
		"tasks.get_by_id": {minVer: "2.1", schema: schema{"task": fStr().req()}, h: (*Server).tasksGetByID},
		"tasks.create":    {minVer: "2.1", schema: taskCreate, h: (*Server).tasksCreate},
		"tasks.edit": {minVer: "2.1", schema: with(taskFields(), schema{
			"task": fStr().req(), "force": fBool(),
		}), h: (*Server).tasksEdit},
		"tasks.edit_hyper_params": {minVer: "2.9", schema: schema{
			"task": fStr().req(), "hyperparams": fArr(paramsItem(true)).req(),
			"replace_hyperparams": fEnum("none", "section", "all"), "force": fBool(),
		}, h: (*Server).tasksEditHyperParams},
		"tasks.edit_configuration": {minVer: "2.9", schema: schema{
			"task": fStr().req(), "configuration": fArr(configItem(true)).req(),
			"replace_configuration": fBool(), "force": fBool(),
		}, h: (*Server).tasksEditConfiguration},
		"tasks.started":   {minVer: "2.1", schema: statusChange, h: (*Server).tasksStarted},
		"tasks.completed": {minVer: "2.2", schema: with(statusChange, schema{"publish": fBool()}), h: (*Server).tasksCompleted},
		"tasks.stopped":   {minVer: "2.1", schema: statusChange, h: (*Server).tasksStopped},
		"tasks.failed":    {minVer: "2.1", schema: statusChange, h: (*Server).tasksFailed},
		"tasks.close":     {minVer: "2.1", schema: statusChange, h: (*Server).tasksClose},
		"tasks.ping":      {minVer: "2.1", schema: schema{"task": fStr().req()}, h: (*Server).tasksPing},
		"tasks.update": {minVer: "2.1", schema: schema{
			"task": fStr().req(), "name": fStr().min(3), "tags": fStrs(), "system_tags": fStrs(),
			"comment": fStr(), "project": fStr(), "created": fStr(),
		}, h: (*Server).tasksUpdate},
		"tasks.add_or_update_model": {minVer: "2.13", schema: schema{
			"task": fStr().req(), "name": fStr().req(), "type": fEnum("input", "output").req(),
			"model": fStr().req(), "iteration": fInt(),
		}, h: (*Server).tasksAddOrUpdateModel},

		"events.add_batch": {minVer: "2.1", batch: true, h: (*Server).eventsAddBatch},
		"events.add":       {minVer: "2.1", schema: eventSchema, h: (*Server).eventsAdd},
		"tasks.add_or_update_artifacts": {minVer: "2.10", schema: schema{
			"task": fStr().req(), "artifacts": fArr(artifactItem).req(), "force": fBool(),
		}, h: (*Server).tasksAddOrUpdateArtifacts},
		"events.get_task_events": {minVer: "2.1", schema: schema{
			"task": fStr().req(), "event_type": fEnum(append([]string{""}, eventTypes...)...),
			"metrics": fArr(metricsFilter), "batch_size": fInt(), "scroll_id": fStr(),
			"order": fEnum("asc", "desc"), "navigate_earlier": fBool(), "count_total": fBool(),
			"model_events": fBool(),
		}, h: (*Server).eventsGetTaskEvents},

		"models.create": {minVer: "2.1", schema: modelCreate, h: (*Server).modelsCreate},
		"models.edit": {minVer: "2.1", schema: with(modelFields(), schema{
			"model": fStr().req(), "iteration": fInt(),
		}), h: (*Server).modelsEdit},
		"models.get_all": {minVer: "2.1", schema: with(getAllCommon, schema{
			"task": fStrs(), "project": fStrs(), "framework": fStrs(), "ready": fBool(),
		}), h: (*Server).modelsGetAll},
		"models.get_by_id": {minVer: "2.1", schema: schema{"model": fStr().req()}, h: (*Server).modelsGetByID},
	}
}
