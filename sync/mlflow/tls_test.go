package mlflow_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	ysync "github.com/yoloarchive/yoloarchive/sync"
	"github.com/yoloarchive/yoloarchive/sync/mlflow"
	"github.com/yoloarchive/yoloarchive/sync/mlflow/mlflowtest"
	"github.com/yoloarchive/yoloarchive/sync/synctest"
)

// TestConfig_TLS: MLFLOW_TRACKING_SERVER_CERT_PATH (the CA bundle the
// server's certificate is checked against), MLFLOW_TRACKING_INSECURE_TLS
// and MLFLOW_TRACKING_CLIENT_CERT_PATH (a PEM file with the client
// certificate and its key), as MLflow's client reads them, against the
// fake served over https; a wrong path is one line naming the variable.
func TestConfig_TLS(t *testing.T) {
	dir := t.TempDir()
	ca, caKey, caPEM := newCA(t)
	clientPEM := filepath.Join(dir, "client.pem")
	if err := os.WriteFile(clientPEM, clientCert(t, ca, caKey), 0o600); err != nil {
		t.Fatal(err)
	}
	clientCAs := x509.NewCertPool()
	clientCAs.AppendCertsFromPEM(caPEM)
	// The fake, requiring a client certificate signed by the test CA.
	srv := mlflowtest.NewTLS(&tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clientCAs})
	defer srv.Close()
	serverPEM := filepath.Join(dir, "server-ca.pem")
	if err := os.WriteFile(serverPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	certDir := filepath.Join(dir, "certs")
	if err := os.Mkdir(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(certDir, "ca.pem"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	noKey := filepath.Join(dir, "no-key.pem")
	if err := os.WriteFile(noKey, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}

	preflight := func(kv ...string) error {
		m := map[string]string{"MLFLOW_TRACKING_URI": srv.URL}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		cfg, err := mlflow.ConfigFromEnv(func(k string) string { return m[k] })
		if err != nil {
			return err
		}
		r := mlflow.New(cfg, mlflow.Options{})
		r.SetClientOptions(ysync.ClientOptions{WaitMin: time.Millisecond, WaitMax: 20 * time.Millisecond, RetryMax: 1})
		_, err = ysync.Preflight(context.Background(), r, nil)
		return err
	}
	for _, tc := range []struct {
		name string
		env  []string
		want string // "" for success
	}{
		{"CA bundle and client certificate", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", serverPEM, "MLFLOW_TRACKING_CLIENT_CERT_PATH", clientPEM}, ""},
		{"CA directory", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", certDir, "MLFLOW_TRACKING_CLIENT_CERT_PATH", clientPEM}, ""},
		{"insecure", []string{"MLFLOW_TRACKING_INSECURE_TLS", "true", "MLFLOW_TRACKING_CLIENT_CERT_PATH", clientPEM}, ""},
		{"system roots only", []string{"MLFLOW_TRACKING_CLIENT_CERT_PATH", clientPEM}, "certificate"},
		{"no client certificate", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", serverPEM}, "certificate"},
		{"CA bundle missing", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", filepath.Join(dir, "nope.pem")}, "MLFLOW_TRACKING_SERVER_CERT_PATH " + filepath.Join(dir, "nope.pem") + ": no such file"},
		{"CA bundle without certificates", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", os.DevNull}, "holds no PEM certificate"},
		{"client file without key", []string{"MLFLOW_TRACKING_SERVER_CERT_PATH", serverPEM, "MLFLOW_TRACKING_CLIENT_CERT_PATH", noKey}, "MLFLOW_TRACKING_CLIENT_CERT_PATH " + noKey},
		{"client file missing", []string{"MLFLOW_TRACKING_CLIENT_CERT_PATH", filepath.Join(dir, "nope.pem")}, "MLFLOW_TRACKING_CLIENT_CERT_PATH " + filepath.Join(dir, "nope.pem") + ": no such file"},
		{"insecure and a CA bundle", []string{"MLFLOW_TRACKING_INSECURE_TLS", "1", "MLFLOW_TRACKING_SERVER_CERT_PATH", serverPEM}, "are both set"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := preflight(tc.env...)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("preflight: %v", err)
			case tc.want == "":
			case err == nil:
				t.Fatalf("preflight passed, want an error with %q", tc.want)
			case !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), "\n"):
				t.Fatalf("error %q, want one line with %q", err, tc.want)
			}
		})
	}

	// A whole sync goes through the same TLS settings.
	cfg, err := mlflow.ConfigFromEnv(func(k string) string {
		return map[string]string{"MLFLOW_TRACKING_URI": srv.URL, "MLFLOW_TRACKING_SERVER_CERT_PATH": serverPEM, "MLFLOW_TRACKING_CLIENT_CERT_PATH": clientPEM}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	archive := synctest.Capture(t, synctest.WithWeights(t, "detect"))
	res := ysync.One(context.Background(), archive, mlflow.New(cfg, mlflow.Options{}), ysync.BatchOptions{Store: &ysync.Store{Dir: t.TempDir()}})
	if res.Status != ysync.StatusSynced || len(srv.Runs()) != 1 {
		t.Fatalf("%s: %s (%d runs)", res.Status, res.Error, len(srv.Runs()))
	}
}

// newCA returns a self-signed CA, its key and its PEM.
func newCA(t *testing.T) (*x509.Certificate, *ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return ca, key, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// clientCert returns one PEM holding a client certificate signed by ca
// and its key, as requests' cert= takes it.
func clientCert(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "yoloarchive"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})...)
}
