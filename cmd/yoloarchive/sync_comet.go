package main

import (
	"os"
	"strconv"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/comet"
)

// cometFlags are the Comet connection flags.
type cometFlags struct {
	APIKeyFile string  `placeholder:"FILE" help:"Read the Comet API key from FILE (default: COMET_API_KEY, else .comet.config)."`
	Workspace  string  `placeholder:"NAME" help:"Comet workspace (default: COMET_WORKSPACE, else .comet.config, else the key's default)."`
	URL        string  `placeholder:"URL" help:"Comet server (COMET_URL_OVERRIDE form, e.g. https://comet.example.com/clientlib/)."`
	Rate       float64 `default:"120" placeholder:"N" help:"Requests per second to Comet, shared by all archives (Comet allows 8,000 a minute per user)."`
}

// cometReplayer builds the Comet destinations.
func cometReplayer(c *SyncCmd, tags []string, store *ysync.Store) (ysync.Target, *ysync.Store, error) {
	opts := comet.BuildOptions{Project: c.Project, Name: c.Name, Tags: tags, Version: c.Version}
	if v := os.Getenv("COMET_MAX_IMAGE_PREDICTIONS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			opts.MaxImagePredictions = n
		}
	}
	if c.To == "comet-offline" {
		out := c.Out
		if out == "" {
			out = "comet-offline"
		}
		return comet.NewOffline(out, opts), nil, nil
	}
	flags := comet.Config{Workspace: c.Comet.Workspace, URL: c.Comet.URL}
	if c.Comet.APIKeyFile != "" {
		b, err := os.ReadFile(c.Comet.APIKeyFile)
		if err != nil {
			return nil, nil, err
		}
		flags.APIKey = strings.TrimSpace(string(b))
		flags.KeySource = "--comet-api-key-file " + c.Comet.APIKeyFile
	}
	cfg, err := comet.LoadConfig(flags)
	if err != nil {
		return nil, nil, err
	}
	r, err := comet.New(cfg, opts)
	if err != nil {
		return nil, nil, err
	}
	r.SetRate(c.Comet.Rate)
	return r, store, nil
}
