package pyfmt

import "testing"

func TestFloat(t *testing.T) {
	for f, want := range map[float64]string{
		0: "0.0", 1: "1.0", 0.01: "0.01", 1e-05: "1e-05", 0.0005: "0.0005", 0.0001: "0.0001",
		12.0: "12.0", 1e16: "1e+16", 1.5e15: "1500000000000000.0", -3.25: "-3.25",
		1.4289999999999999e-05: "1.4289999999999999e-05", 0.937: "0.937",
	} {
		if got := Float(f); got != want {
			t.Errorf("Float(%v) = %q, want %q", f, got, want)
		}
	}
}

func TestStrRepr(t *testing.T) {
	if got := StrRepr("it's"); got != `"it's"` {
		t.Errorf("StrRepr = %s", got)
	}
}
