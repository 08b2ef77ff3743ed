package clearml

import (
	ysync "github.com/yoloarchive/yoloarchive/sync"
)

// Flags are the ClearML flags of `sync` (--clearml-*); the environment and
// clearml.conf fill what they leave empty.
type Flags struct {
	APIHost   string  `placeholder:"URL" help:"ClearML API server, e.g. http://clearml:8008."`
	WebHost   string  `placeholder:"URL" help:"ClearML web UI (for links)."`
	FilesHost string  `placeholder:"URL" help:"ClearML file server."`
	Insecure  bool    `help:"Do not verify TLS certificates."`
	Rate      float64 `default:"0" placeholder:"N" help:"Requests per second to ClearML, shared by all archives (0: no limit; a 429 pauses every worker either way)."`
}

func init() {
	ysync.Register(ysync.Kind{Name: "clearml", Tracker: "clearml", Gaps: Gaps, Help: "a ClearML server's API",
		New: func(o ysync.Options, flags any) (ysync.Target, error) {
			f, _ := flags.(*Flags)
			if f == nil {
				f = &Flags{}
			}
			cfg, err := LoadConfig(Config{APIHost: f.APIHost, WebHost: f.WebHost, FilesHost: f.FilesHost, Insecure: f.Insecure})
			if err != nil {
				return nil, err
			}
			d := New(cfg, o)
			d.SetRate(f.Rate)
			return d, nil
		}})
	ysync.Register(ysync.Kind{Name: "clearml-offline", Tracker: "clearml", Gaps: Gaps, Offline: true, DefaultOut: "clearml-offline",
		Help: "offline sessions for 'clearml-task --import-offline-session'",
		New: func(o ysync.Options, _ any) (ysync.Target, error) {
			return NewOffline(o.Out, o), nil
		}})
}
