package convert

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Dataset is a YOLO dataset description (data.yaml) resolved on the
// capturing machine.
type Dataset struct {
	// YAML is the path of the data.yaml file ("" for a classify dataset
	// given as a directory).
	YAML string
	// Root is the dataset root all relative paths resolve against.
	Root string
	// Names are the class names by index.
	Names []string
	// Train and Val are the image files of each split, sorted as
	// Ultralytics sorts them. nil when the split did not resolve.
	Train, Val []string
	// Classify is true for an image-folder classification dataset.
	Classify bool
	// Notes explain how paths were resolved when the recorded ones did not
	// exist on this machine.
	Notes []string
}

// dataYAML is the part of data.yaml yoloarchive reads.
type dataYAML struct {
	Path  string    `yaml:"path"`
	Train yaml.Node `yaml:"train"`
	Val   yaml.Node `yaml:"val"`
	Names yaml.Node `yaml:"names"`
	NC    int       `yaml:"nc"`
}

// ResolveDataset finds and reads the dataset a run trained on. spec is the
// data argument (a path to data.yaml, or a directory for classify); runDir
// is the run directory, tried as a base for relative paths besides the
// working directory. It returns an error saying what was tried when the
// dataset is not on this machine.
func ResolveDataset(spec, runDir string) (*Dataset, error) {
	return resolveDataset(spec, runDir, false)
}

// resolveDataset is ResolveDataset; yamlOnly (the run's own data
// setting) reads a file only when its name ends in .yaml or .yml.
func resolveDataset(spec, runDir string, yamlOnly bool) (*Dataset, error) {
	if spec == "" {
		return nil, errors.New("no dataset recorded")
	}
	var tried []string
	for _, cand := range candidates(spec, runDir) {
		tried = append(tried, cand)
		switch {
		case statFile(cand) && yamlOnly && !isYAMLName(cand):
			return nil, fmt.Errorf("the run's data setting %q names a file that is not a .yaml: not read (give the dataset's yaml with --data)", spec)
		case statFile(cand):
			return readDataYAML(cand)
		case dirExists(cand):
			return readClassifyDir(cand)
		}
	}
	return nil, fmt.Errorf("dataset %q not found on this machine (tried %s)", spec, strings.Join(tried, ", "))
}

// isYAMLName reports whether a file name ends in .yaml or .yml.
func isYAMLName(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	return ext == ".yaml" || ext == ".yml"
}

// statFile reports whether p is a regular file, links followed: a
// dataset lives outside the run directory, often behind links.
func statFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func candidates(spec, runDir string) []string {
	if filepath.IsAbs(spec) {
		return []string{spec}
	}
	return []string{spec, filepath.Join(runDir, spec)}
}

func readDataYAML(p string) (*Dataset, error) {
	data, err := os.ReadFile(p)
	if err != nil {
		return nil, err
	}
	var y dataYAML
	if err := yaml.Unmarshal(data, &y); err != nil {
		return nil, fmt.Errorf("%s: %s", p, oneLine(err.Error()))
	}
	d := &Dataset{YAML: p}
	d.Names, err = parseNames(&y.Names)
	if err != nil {
		return nil, fmt.Errorf("%s: names: %w", p, err)
	}
	if len(d.Names) == 0 && y.NC > 0 {
		for i := 0; i < y.NC; i++ {
			d.Names = append(d.Names, "class"+strconv.Itoa(i))
		}
	}
	d.Root = d.resolveRoot(y.Path, filepath.Dir(p))
	if d.Train, err = d.listSplit(&y.Train); err != nil {
		d.Notes = append(d.Notes, "train split: "+err.Error())
	}
	if d.Val, err = d.listSplit(&y.Val); err != nil {
		d.Notes = append(d.Notes, "val split: "+err.Error())
	}
	return d, nil
}

// resolveRoot returns the dataset root. A recorded root that does not exist
// here (the dataset moved with the run) falls back to the yaml's directory.
func (d *Dataset) resolveRoot(recorded, yamlDir string) string {
	if recorded == "" {
		return yamlDir
	}
	if filepath.IsAbs(recorded) {
		if dirExists(recorded) {
			return recorded
		}
		d.Notes = append(d.Notes, fmt.Sprintf("path %s does not exist here; used the yaml's directory %s", recorded, yamlDir))
		return yamlDir
	}
	for _, c := range []string{filepath.Join(yamlDir, recorded), filepath.Join(filepath.Dir(yamlDir), recorded)} {
		if dirExists(c) {
			return c
		}
	}
	d.Notes = append(d.Notes, fmt.Sprintf("path %s does not resolve here; used the yaml's directory %s", recorded, yamlDir))
	return yamlDir
}

// parseNames reads names given as a list or as a {index: name} mapping.
func parseNames(n *yaml.Node) ([]string, error) {
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.SequenceNode:
		var names []string
		err := n.Decode(&names)
		return names, err
	case yaml.MappingNode:
		var m map[int]string
		if err := n.Decode(&m); err != nil {
			return nil, err
		}
		names := make([]string, len(m))
		for i, name := range m {
			if i < 0 || i >= len(m) {
				return nil, fmt.Errorf("class indices are not 0..%d", len(m)-1)
			}
			names[i] = name
		}
		return names, nil
	}
	return nil, fmt.Errorf("want a list or a mapping")
}

// listSplit lists a split's images: the split is a directory, an image list
// file, or a list of either, relative to the root.
func (d *Dataset) listSplit(n *yaml.Node) ([]string, error) {
	var specs []string
	switch n.Kind {
	case 0:
		return nil, nil
	case yaml.ScalarNode:
		specs = []string{n.Value}
	case yaml.SequenceNode:
		if err := n.Decode(&specs); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("want a path or a list of paths")
	}
	var files []string
	for _, s := range specs {
		p := s
		if !filepath.IsAbs(p) {
			p = filepath.Join(d.Root, p)
		}
		switch {
		case dirExists(p):
			imgs, err := listImages(p)
			if err != nil {
				return nil, err
			}
			files = append(files, imgs...)
		case statFile(p):
			imgs, err := readImageList(p)
			if err != nil {
				return nil, err
			}
			files = append(files, imgs...)
		default:
			return nil, fmt.Errorf("%s does not exist", p)
		}
	}
	sort.Strings(files)
	return files, nil
}

// listImages returns the image files below dir, recursively.
func listImages(dir string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !e.IsDir() && imageExts[strings.ToLower(filepath.Ext(p))] {
			out = append(out, p)
		}
		return nil
	})
	return out, err
}

// readImageList reads a .txt list of image paths; "./x" entries are
// relative to the list's directory, as Ultralytics reads them.
func readImageList(p string) ([]string, error) {
	f, err := os.Open(p)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	parent := filepath.Dir(p)
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "./") {
			line = filepath.Join(parent, line[2:])
		} else if !filepath.IsAbs(line) {
			line = filepath.Join(parent, line)
		}
		if imageExts[strings.ToLower(filepath.Ext(line))] {
			out = append(out, line)
		}
	}
	return out, sc.Err()
}

// readClassifyDir reads an image-folder classification dataset:
// root/{train,val}/<class>/*.jpg.
func readClassifyDir(root string) (*Dataset, error) {
	d := &Dataset{Root: root, Classify: true}
	ents, err := os.ReadDir(filepath.Join(root, "train"))
	if err != nil {
		return nil, fmt.Errorf("%s: not a classification dataset (no train/ folder)", root)
	}
	for _, e := range ents {
		if e.IsDir() {
			d.Names = append(d.Names, e.Name())
		}
	}
	sort.Strings(d.Names)
	d.Train, _ = listImages(filepath.Join(root, "train"))
	for _, split := range []string{"val", "test"} {
		if dirExists(filepath.Join(root, split)) {
			d.Val, _ = listImages(filepath.Join(root, split))
			break
		}
	}
	return d, nil
}

// LabelPath returns the YOLO label file of an image: the last "/images/"
// becomes "/labels/" and the extension ".txt", as Ultralytics'
// img2label_paths does.
func LabelPath(img string) string {
	sa := string(filepath.Separator) + "images" + string(filepath.Separator)
	sb := string(filepath.Separator) + "labels" + string(filepath.Separator)
	if i := strings.LastIndex(img, sa); i >= 0 {
		img = img[:i] + sb + img[i+len(sa):]
	}
	if ext := filepath.Ext(img); ext != "" {
		img = strings.TrimSuffix(img, ext)
	}
	return img + ".txt"
}

// Rel returns an image's path relative to the dataset root, "/"-separated.
func (d *Dataset) Rel(img string) string {
	if r, err := filepath.Rel(d.Root, img); err == nil && !strings.HasPrefix(r, "..") {
		return filepath.ToSlash(r)
	}
	return filepath.ToSlash(img)
}

// ImageKey returns the COCO image_id Ultralytics gives an image file: the
// stem as an integer when it is numeric, else the stem.
func ImageKey(file string) string {
	s := stem(filepath.ToSlash(file))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil && isDigits(s) {
		return strconv.FormatInt(n, 10)
	}
	return s
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
