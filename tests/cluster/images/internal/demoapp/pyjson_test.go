package demoapp

import "testing"

// Expected strings are Python 3.11's json.dumps / format() output for the same values.
func TestPyDumps(t *testing.T) {
	cases := []struct {
		name   string
		fields []field
		want   string
	}{
		{"root body", []field{{"version", "7"}, {"pod", "web-abc"}}, `{"version": "7", "pod": "web-abc"}`},
		{"injected error body", []field{{"error", "injected"}, {"version", "1"}, {"pod", "p"}}, `{"error": "injected", "version": "1", "pod": "p"}`},
		{"escapes and non-ASCII", []field{{"version", "v\"1\\\n\t\x01é😀<&>"}}, `{"version": "v\"1\\\n\t\u0001\u00e9\ud83d\ude00<&>"}`},
		{"invalid UTF-8 as surrogateescape", []field{{"pod", "a\xffb"}}, `{"pod": "a\udcffb"}`},
		{"DEL is escaped", []field{{"pod", "\x7f"}}, `{"pod": "\u007f"}`},
		{"tiny float in exponent form", []field{{"r", 1e-05}}, `{"r": 1e-05}`},
		{"1e-4 stays positional", []field{{"r", 0.0001}}, `{"r": 0.0001}`},
		{"large float", []field{{"r", 1.5e16}}, `{"r": 1.5e+16}`},
		{"integral float keeps .0", []field{{"r", 123456789012345.0}}, `{"r": 123456789012345.0}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := string(pyDumps(tc.fields...)); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestPyG(t *testing.T) {
	for in, want := range map[float64]string{0.6: "0.6", 1: "1", 0: "0", 1e6: "1e+06", 1234567: "1.23457e+06", 0.00001: "1e-05", 2.5: "2.5"} {
		if got := pyG(in); got != want {
			t.Errorf("pyG(%v) = %q, want %q", in, got, want)
		}
	}
}
