package main

import (
	"bytes"
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"nodowntime.dev/images/internal/ociimage"
)

// catalog is every image the registry serves, keyed by "repository:tag".
type catalog map[string]v1.Image

// buildCatalog makes one demo-app image per tag (VERSION=<tag>, so each tag answers with
// its own version) and the pause image.
func buildCatalog(o options) (catalog, error) {
	tags := splitTags(o.demoTags)
	if len(tags) == 0 {
		return nil, fmt.Errorf("--demo-tags %q: no tags", o.demoTags)
	}
	// One layer per binary: the demo tags share it, so it is gzipped and stored once.
	demoLayer, err := binaryLayer("--demo-app", o.demoApp, "/demo-app")
	if err != nil {
		return nil, err
	}
	pauseLayer, err := binaryLayer("--pause", o.pause, "/pause")
	if err != nil {
		return nil, err
	}
	cat := catalog{}
	add := func(ref string, layer v1.Layer, spec ociimage.Spec) error {
		// Checked under a stand-in host, as the port is not known yet; strict, so a missing
		// tag is an error rather than a silent "latest".
		if _, err := name.NewTag("127.0.0.1/"+ref, name.StrictValidation); err != nil {
			return fmt.Errorf("image reference %q: %w", ref, err)
		}
		img, err := ociimage.Image(layer, spec)
		if err != nil {
			return fmt.Errorf("building %s: %w", ref, err)
		}
		cat[ref] = img
		return nil
	}
	for _, t := range tags {
		spec := ociimage.Spec{Entrypoint: "/demo-app", Env: []string{"VERSION=" + t}, Ports: []string{"8080/tcp"}}
		if err := add(o.demoRepo+":"+t, demoLayer, spec); err != nil {
			return nil, err
		}
	}
	if err := add(o.pauseRef, pauseLayer, ociimage.Spec{Entrypoint: "/pause"}); err != nil {
		return nil, err
	}
	return cat, nil
}

// under names every image in the registry at host (plain HTTP), for pushing.
func (c catalog) under(host string) (map[name.Reference]remote.Taggable, error) {
	refs := map[name.Reference]remote.Taggable{}
	for ref, img := range c {
		tag, err := name.NewTag(host+"/"+ref, name.Insecure)
		if err != nil {
			return nil, err
		}
		refs[tag] = img
	}
	return refs, nil
}

// binaryLayer reads a binary the image will run FROM scratch, refusing what cannot be one,
// and puts it at path.
func binaryLayer(flag, file, path string) (v1.Layer, error) {
	if file == "" {
		return nil, fmt.Errorf("%s is required (the binary to put in the image)", flag)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", flag, err)
	}
	if !bytes.HasPrefix(data, []byte("\x7fELF")) {
		return nil, fmt.Errorf("%s %s: not an ELF executable", flag, file)
	}
	return ociimage.FileLayer(path, data)
}

// splitTags reads "1, 2,,3" as [1 2 3], dropping repeats.
func splitTags(s string) []string {
	var tags []string
	seen := map[string]bool{}
	for _, t := range strings.Split(s, ",") {
		if t = strings.TrimSpace(t); t != "" && !seen[t] {
			seen[t] = true
			tags = append(tags, t)
		}
	}
	return tags
}
