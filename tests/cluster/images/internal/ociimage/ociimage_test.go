package ociimage

import (
	"archive/tar"
	"bytes"
	"io"
	"reflect"
	"runtime"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

var binary = []byte("\x7fELF pretend binary")

func TestFileLayerHoldsOneExecutable(t *testing.T) {
	layer, err := FileLayer("/demo-app", binary)
	if err != nil {
		t.Fatal(err)
	}
	if mt, _ := layer.MediaType(); mt != types.OCILayer {
		t.Errorf("media type %s, want %s", mt, types.OCILayer)
	}
	rc, err := layer.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		t.Fatal(err)
	}
	if hdr.Name != "demo-app" || hdr.Mode != 0o755 || hdr.Typeflag != tar.TypeReg || !hdr.ModTime.Equal(Created) {
		t.Errorf("entry %q mode %o type %c mtime %s; want demo-app 755 regular %s", hdr.Name, hdr.Mode, hdr.Typeflag, hdr.ModTime, Created)
	}
	if data, _ := io.ReadAll(tr); !bytes.Equal(data, binary) {
		t.Errorf("contents %q, want %q", data, binary)
	}
	if _, err := tr.Next(); err != io.EOF {
		t.Errorf("a second entry (err %v): the layer must hold only the binary", err)
	}
}

func TestImageConfig(t *testing.T) {
	layer, err := FileLayer("/demo-app", binary)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		spec  Spec
		ports map[string]struct{}
	}{
		{"demo app", Spec{Entrypoint: "/demo-app", Env: []string{"VERSION=3"}, Ports: []string{"8080/tcp"}}, map[string]struct{}{"8080/tcp": {}}},
		{"pause has no env or ports", Spec{Entrypoint: "/pause"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			img, err := Image(layer, tc.spec)
			if err != nil {
				t.Fatal(err)
			}
			cfg, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			checks := []struct {
				what      string
				got, want any
			}{
				{"os", cfg.OS, "linux"},
				{"architecture", cfg.Architecture, runtime.GOARCH},
				{"created", cfg.Created.Time, Created},
				{"entrypoint", cfg.Config.Entrypoint, []string{tc.spec.Entrypoint}},
				{"cmd", cfg.Config.Cmd, []string(nil)},
				{"env", cfg.Config.Env, tc.spec.Env},
				{"exposed ports", cfg.Config.ExposedPorts, tc.ports},
				{"one layer", len(cfg.RootFS.DiffIDs), 1},
			}
			for _, c := range checks {
				if !reflect.DeepEqual(c.got, c.want) {
					t.Errorf("%s = %#v, want %#v", c.what, c.got, c.want)
				}
			}
			if mt, _ := img.MediaType(); mt != types.OCIManifestSchema1 {
				t.Errorf("manifest media type %s, want OCI", mt)
			}
		})
	}
}

func TestDigestsAreReproducible(t *testing.T) {
	digest := func(env string) (image, layer v1.Hash) {
		l, err := FileLayer("/demo-app", binary)
		if err != nil {
			t.Fatal(err)
		}
		img, err := Image(l, Spec{Entrypoint: "/demo-app", Env: []string{env}})
		if err != nil {
			t.Fatal(err)
		}
		image, _ = img.Digest()
		layer, _ = l.Digest()
		return image, layer
	}
	img1, layer1 := digest("VERSION=1")
	again, _ := digest("VERSION=1")
	img2, layer2 := digest("VERSION=2")
	if img1 != again {
		t.Errorf("the same inputs gave %s then %s", img1, again)
	}
	if img1 == img2 {
		t.Errorf("VERSION=1 and VERSION=2 share digest %s", img1)
	}
	if layer1 != layer2 {
		t.Errorf("the tags should share one layer: %s vs %s", layer1, layer2)
	}
}
