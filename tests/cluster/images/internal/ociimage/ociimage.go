// Package ociimage makes the single-binary OCI images the test registry serves: FROM
// scratch, one layer holding one static binary, which is also the entrypoint.
package ociimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"runtime"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Created stamps every config, history entry and tar header: fixed, so the same binary
// makes the same digests on every start, and a restarted registry serves exactly what the
// node's containerd already holds.
var Created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// FileLayer is a gzipped layer holding data at path (absolute, e.g. "/demo-app"), mode 0755.
// Build it once per binary: every tag of the demo app shares it, so it is stored once.
func FileLayer(path string, data []byte) (v1.Layer, error) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(zw)
	hdr := &tar.Header{
		Name:     strings.TrimPrefix(path, "/"), // layer entries are relative to the rootfs
		Mode:     0o755,
		Size:     int64(len(data)),
		ModTime:  Created,
		Typeflag: tar.TypeReg,
		Format:   tar.FormatUSTAR,
	}
	if err := tw.WriteHeader(hdr); err != nil {
		return nil, err
	}
	if _, err := tw.Write(data); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	blob := buf.Bytes()
	// Already gzipped, so ggcr takes the bytes as the blob instead of compressing again.
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(blob)), nil
	}, tarball.WithMediaType(types.OCILayer))
}

// Spec is what an image runs.
type Spec struct {
	Entrypoint string   // the binary's path in the layer
	Env        []string // "NAME=value"
	Ports      []string // "8080/tcp"
}

// Image is scratch plus layer, run as spec says. The architecture is the registry's own:
// the binaries it serves were built by the same toolchain for the same machine.
func Image(layer v1.Layer, spec Spec) (v1.Image, error) {
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.Append(base, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: Created}, CreatedBy: "COPY " + spec.Entrypoint + " " + spec.Entrypoint},
	})
	if err != nil {
		return nil, err
	}
	cfg, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cfg = cfg.DeepCopy()
	cfg.OS, cfg.Architecture = "linux", runtime.GOARCH
	cfg.Created = v1.Time{Time: Created}
	cfg.Config.Entrypoint = []string{spec.Entrypoint}
	cfg.Config.Env = spec.Env
	if len(spec.Ports) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range spec.Ports {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	return mutate.ConfigFile(img, cfg)
}
