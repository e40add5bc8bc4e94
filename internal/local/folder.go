package local

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/picloud/picloud/internal/project"
)

// FolderApp is the app of a folder without a manifest.
const FolderApp = "local"

// LoadFolder reads the scripts of dir: the project when dir has a
// picloud.toml, else every NAME.rhai in it (not *_test.rhai) as the script
// NAME of the app FolderApp.
func LoadFolder(dir string) (*project.Project, error) {
	_, err := os.Stat(filepath.Join(dir, project.ManifestName))
	switch {
	case err == nil:
		return project.Load(dir)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("local: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(abs, "*"+project.ScriptExt))
	if err != nil {
		return nil, fmt.Errorf("local: %w", err)
	}
	p := &project.Project{Dir: abs, App: FolderApp}
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasSuffix(base, project.TestSuffix) {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("local: %w", err)
		}
		p.Scripts = append(p.Scripts, project.Script{Name: strings.TrimSuffix(base, project.ScriptExt), File: base, Source: string(src)})
	}
	return p, nil
}

// ScriptOf returns the name of the script of p whose file is path.
func ScriptOf(p *project.Project, path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("local: %w", err)
	}
	i := slices.IndexFunc(p.Scripts, func(s project.Script) bool {
		return filepath.Join(p.Dir, filepath.FromSlash(s.File)) == abs
	})
	if i < 0 {
		return "", fmt.Errorf("local: %s is not a script of the project in %s", path, p.Dir)
	}
	return p.Scripts[i].Name, nil
}
