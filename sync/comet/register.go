package comet

import (
	"os"
	"strconv"
	"strings"

	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Flags are the Comet flags of `sync` (--comet-*); the environment and
// .comet.config fill what they leave empty.
type Flags struct {
	APIKeyFile string  `placeholder:"FILE" help:"Read the Comet API key from FILE (default: COMET_API_KEY, else .comet.config)."`
	Workspace  string  `placeholder:"NAME" help:"Comet workspace (default: COMET_WORKSPACE, else .comet.config, else the key's default)."`
	URL        string  `placeholder:"URL" help:"Comet server (COMET_URL_OVERRIDE form, e.g. https://comet.example.com/clientlib/)."`
	Rate       float64 `default:"120" placeholder:"N" help:"Requests per second to Comet, shared by all archives (Comet allows 8,000 a minute per user)."`
}

// options adds Comet's own options (from the environment, as the SDK
// reads them) to the sync command's.
func options(o ysync.Options) Options {
	opts := Options{Options: o}
	if v := os.Getenv("COMET_MAX_IMAGE_PREDICTIONS"); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			opts.MaxImagePredictions = n
		}
	}
	return opts
}

func init() {
	ysync.Register(ysync.Kind{Name: "comet", Tracker: "comet", Gaps: Gaps, Help: "a Comet server's REST API",
		New: func(o ysync.Options, flags any) (ysync.Target, error) {
			f, _ := flags.(*Flags)
			if f == nil {
				f = &Flags{}
			}
			cfg := Config{Workspace: f.Workspace, URL: f.URL}
			if f.APIKeyFile != "" {
				b, err := os.ReadFile(f.APIKeyFile)
				if err != nil {
					return nil, err
				}
				cfg.APIKey = strings.TrimSpace(string(b))
				cfg.KeySource = "--comet-api-key-file " + f.APIKeyFile
			}
			cfg, err := LoadConfig(cfg)
			if err != nil {
				return nil, err
			}
			d, err := New(cfg, options(o))
			if err != nil {
				return nil, err
			}
			d.SetRate(f.Rate)
			return d, nil
		}})
	ysync.Register(ysync.Kind{Name: "comet-offline", Tracker: "comet", Gaps: Gaps, Offline: true, DefaultOut: "comet-offline",
		Help: "offline experiment zips for 'comet upload'",
		New: func(o ysync.Options, _ any) (ysync.Target, error) {
			return NewOffline(o.Out, options(o)), nil
		}})
}
