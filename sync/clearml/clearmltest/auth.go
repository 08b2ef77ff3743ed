package clearmltest

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// authenticate checks the Authorization header: Basic credentials or a
// live Bearer token (auth.login accepts either too).
func (s *Server) authenticate(r *http.Request) *apiError {
	h := r.Header.Get("Authorization")
	if h == "" {
		return errf(401, 20, "Unauthorized (missing authentication)")
	}
	scheme, cred, _ := strings.Cut(h, " ")
	switch scheme {
	case "Basic":
		if !s.basicOK(cred) {
			// An access key the server does not know, or a wrong secret:
			// authorize_credentials finds no user with both
			// (service_repo/auth/auth.py; clearml-api.md §1.6, §8).
			return errf(401, 22, "Unauthorized (invalid credentials) (failed to locate provided credentials)")
		}
		return nil
	case "Bearer":
		if !s.tokenOK(strings.TrimSpace(cred)) {
			return errf(401, 30, "Unauthorized (invalid token)")
		}
		return nil
	}
	return errf(401, 10, "Unauthorized (bad authentication type, expected Basic or Bearer)")
}

func (s *Server) basicOK(cred string) bool {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(b), ":")
	if !ok {
		return false
	}
	s.mu.Lock()
	ak, sk := s.AccessKey, s.SecretKey
	s.mu.Unlock()
	u := subtle.ConstantTimeCompare([]byte(user), []byte(ak))
	p := subtle.ConstantTimeCompare([]byte(pass), []byte(sk))
	return u&p == 1
}

func (s *Server) tokenOK(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.tokens[tok]
	return ok && s.now().Before(exp)
}

var b64url = base64.RawURLEncoding

// issueToken makes a JWT-shaped token (HS256 over a random key) and
// records it. Callers hold s.mu.
func (s *Server) issueToken(lifetime time.Duration) string {
	now := s.now()
	exp := now.Add(lifetime)
	header := b64url.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	payload, _ := json.Marshal(map[string]any{
		"env":            "test",
		"iat":            now.Unix(),
		"exp":            exp.Unix(),
		"api_version":    APIVersion,
		"server_version": ServerVersion,
		"server_build":   "test",
		"feature_set":    "basic",
		"jti":            newID(),
		"identity": map[string]any{
			"company": "d1bd92a3b039400cbafc60a7a5b1e52b", "company_name": "clearmltest",
			"user": "test-user", "user_name": "Test User", "role": "user",
		},
	})
	signing := header + "." + b64url.EncodeToString(payload)
	mac := hmac.New(sha256.New, s.signKey)
	mac.Write([]byte(signing))
	tok := signing + "." + b64url.EncodeToString(mac.Sum(nil))
	s.tokens[tok] = exp
	return tok
}

func (s *Server) authLogin(c *call) (any, *apiError) {
	life := defaultExpiration
	if has(c.body, "expiration_sec") {
		sec := gInt(c.body, "expiration_sec", 0)
		if sec <= 0 {
			return nil, errf(400, 16, "Value of field is invalid (expiration_sec must be positive)")
		}
		if sec > maxExpirationSec {
			sec = maxExpirationSec
		}
		life = time.Duration(sec) * time.Second
	}
	tok := s.issueToken(life)
	http.SetCookie(c.w, &http.Cookie{Name: "clearml_token_basic", Value: tok, Path: "/", HttpOnly: true})
	return map[string]any{"token": tok}, nil
}
