// Package mlflowtest is an in-process fake of an MLflow tracking server
// (REST API 2.0 under /api/2.0/mlflow/, and the artifacts proxy under
// /api/2.0/mlflow-artifacts/ that `mlflow server` serves by default), for
// the tests of an MLflow replay. It depends on the standard library and
// sync/mlflow/filestore only, so no test server links gocv.
//
// It answers as the real server does, derived from MLflow's sources:
// mlflow/protos/service.proto (endpoints, methods, fields),
// mlflow/server/handlers.py (each handler's schema of required and typed
// fields, the answers), mlflow/exceptions.py (error code to HTTP status:
// RESOURCE_DOES_NOT_EXIST 404, INVALID_PARAMETER_VALUE and
// RESOURCE_ALREADY_EXISTS 400, INTERNAL_ERROR 500), mlflow/utils/validation.py
// (names, lengths, the log-batch limits of 1000 metrics, 100 params, 100
// tags, 1000 entities and 1,000,000 request bytes, a param that changes
// value refused), mlflow/utils/search_utils.py (page tokens, the run
// order, filter errors) and mlflow/server/auth (401 with
// WWW-Authenticate: Basic realm="mlflow" and a text body). Errors are
// {"error_code": "...", "message": "..."}.
//
// Where servers differ, a mode answers each way, and tests of a client
// should run against both:
//   - [History]: a server with a database backend pages metrics/get-history
//     with max_results and page_token; one with a file store backend
//     returns every point and refuses a page_token (500).
//   - [LongValues]: a param value over 6000 characters (a tag over 5000)
//     is refused (400), as older servers and servers run with
//     MLFLOW_TRUNCATE_LONG_VALUES=false do, or truncated, as current
//     servers do by default (environment_variables.py). The zero value
//     refuses.
//   - [Auth]: none, HTTP basic (the basic-auth app), or a bearer token (a
//     token-checking proxy in front of the server; MLflow itself checks
//     none, so its 401 is modelled on the basic-auth app's).
//
// Like the real server, it ignores fields a message does not define; it
// records them, and every refusal of a malformed request, in
// [Server.InvalidRequests], which a client's tests require to be empty.
//
// Simplifications a client must not rely on either way:
//   - runs/search understands only conjunctions (AND) of tag comparisons
//     (tags.`k` = 'v', tags.k != "v"), the filter a dedupe by tag needs;
//     anything else the real server accepts is refused with 400 and
//     recorded as unsupported, and real syntax errors are refused with 400
//     as the real server refuses them; order_by is not supported;
//   - a metric's history comes back in logging order;
//   - experiments get sequential ids ("0" is Default), as a database
//     backend gives them;
//   - there are no deletes, no datasets, no model registry, no traces.
package mlflowtest
