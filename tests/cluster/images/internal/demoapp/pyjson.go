package demoapp

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// field is one key of a JSON object; a slice of them keeps the Python app's key order.
type field struct {
	key   string
	value any // string, int or float64
}

// pyDumps writes what Python's json.dumps writes for the same dict, byte for byte:
// ", " and ": " separators, ASCII-only strings, floats as repr() (0.0, 1e-05). The
// bodies are a contract the harness reads, so the port does not reformat them.
func pyDumps(fields ...field) []byte {
	var b strings.Builder
	b.WriteByte('{')
	for i, f := range fields {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(pyString(f.key))
		b.WriteString(": ")
		switch v := f.value.(type) {
		case string:
			b.WriteString(pyString(v))
		case int:
			b.WriteString(strconv.Itoa(v))
		case float64:
			b.WriteString(pyFloat(v))
		default:
			panic(fmt.Sprintf("pyDumps: unsupported %T", v))
		}
	}
	b.WriteByte('}')
	return []byte(b.String())
}

// pyFloat is Python's repr(float) for finite values: the shortest round-trip digits,
// scientific below 1e-4 and from 1e16 on, and always a "." or an exponent.
func pyFloat(v float64) string {
	sci := strconv.FormatFloat(v, 'e', -1, 64)
	exp, _ := strconv.Atoi(sci[strings.IndexByte(sci, 'e')+1:])
	if exp < -4 || exp >= 16 {
		return sci // Go and Python both write e-05, e+16
	}
	s := strconv.FormatFloat(v, 'f', -1, 64)
	if !strings.Contains(s, ".") {
		s += ".0"
	}
	return s
}

var pyShortEscapes = map[rune]string{'"': `\"`, '\\': `\\`, '\b': `\b`, '\f': `\f`, '\n': `\n`, '\r': `\r`, '\t': `\t`}

// pyString is json.dumps(str) with ensure_ascii: everything outside space..~ is \uXXXX,
// astral runes as surrogate pairs, and bytes that are not UTF-8 as the lone surrogates
// Python's surrogateescape turns them into when it reads the environment.
func pyString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			fmt.Fprintf(&b, `\u%04x`, 0xDC00+int(s[i]))
		} else if esc, ok := pyShortEscapes[r]; ok {
			b.WriteString(esc)
		} else if r >= ' ' && r <= '~' {
			b.WriteRune(r)
		} else if r > 0xFFFF {
			hi, lo := utf16.EncodeRune(r)
			fmt.Fprintf(&b, `\u%04x\u%04x`, hi, lo)
		} else {
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	b.WriteByte('"')
	return b.String()
}

// pyG is Python's f"{x:g}": six significant digits, trailing zeros dropped.
func pyG(v float64) string { return strconv.FormatFloat(v, 'g', 6, 64) }
