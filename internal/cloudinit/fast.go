package cloudinit

import (
	"strconv"
	"strings"
)

// writeFilesFast reads the write_files of a cloud-config in the common block style (each entry a
// mapping whose content is a literal block or a one-line scalar) without a general YAML parser, which
// would dominate an audit of many database hosts. ok is false for anything else (flow style, folded or
// anchored scalars, tabs), and the caller falls back to the YAML parser.
func writeFilesFast(doc string) (files []writeFile, ok bool) {
	lines := strings.Split(doc, "\n")
	i := 0
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "write_files:"); i++ {
	}
	if i == len(lines) {
		return nil, true // no files
	}
	if strings.TrimSpace(lines[i]) != "write_files:" {
		return nil, false // flow style or a comment: leave it to the YAML parser
	}
	i++
	var cur *writeFile
	itemIndent := -1
	for i < len(lines) {
		line := lines[i]
		if strings.TrimSpace(line) == "" {
			i++
			continue
		}
		if strings.ContainsRune(line, '\t') {
			return nil, false
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if indent == 0 && !strings.HasPrefix(line, "- ") {
			break // the next top-level key
		}
		rest := line[indent:]
		if strings.HasPrefix(rest, "- ") {
			if itemIndent == -1 {
				itemIndent = indent
			} else if indent != itemIndent {
				return nil, false
			}
			files = append(files, writeFile{})
			cur = &files[len(files)-1]
			rest = rest[2:]
			indent += 2
		} else if cur == nil || indent != itemIndent+2 {
			return nil, false
		}
		key, value, found := strings.Cut(rest, ":")
		if !found {
			return nil, false
		}
		value = strings.TrimSpace(value)
		i++
		if value == "|" || value == "|-" || value == "|+" {
			chomp := value[1:]
			// A literal block: the lines indented deeper than the key, with the first one's indentation.
			var block []string
			blockIndent := -1
			for ; i < len(lines); i++ {
				l := lines[i]
				if strings.TrimSpace(l) == "" {
					block = append(block, "")
					continue
				}
				in := len(l) - len(strings.TrimLeft(l, " "))
				if in <= indent {
					break
				}
				if blockIndent == -1 {
					blockIndent = in
				}
				if in < blockIndent {
					return nil, false
				}
				block = append(block, l[blockIndent:])
			}
			trailing := 0
			for len(block) > 0 && block[len(block)-1] == "" {
				block = block[:len(block)-1]
				trailing++
			}
			if i == len(lines) && trailing > 0 {
				trailing-- // the empty string after the document's final newline is not a line
			}
			value = strings.Join(block, "\n")
			switch {
			case len(block) == 0:
			case chomp == "": // clip: one final newline
				value += "\n"
			case chomp == "+": // keep: every final newline
				value += strings.Repeat("\n", trailing+1)
			}
		} else if v, ok := scalar(value); ok {
			value = v
		} else {
			return nil, false
		}
		switch key {
		case "path":
			cur.Path = value
		case "content":
			cur.Content = value
		case "encoding":
			cur.Encoding = value
		}
	}
	return files, true
}

// scalar reads a one-line plain, single- or double-quoted YAML scalar.
func scalar(v string) (string, bool) {
	switch {
	case v == "" || strings.HasPrefix(v, "|") || strings.HasPrefix(v, ">") || strings.ContainsAny(v[:1], "&*!{[%@`"):
		return "", false
	case v[0] == '"':
		s, err := strconv.Unquote(v)
		return s, err == nil
	case v[0] == '\'':
		if len(v) < 2 || v[len(v)-1] != '\'' {
			return "", false
		}
		return strings.ReplaceAll(v[1:len(v)-1], "''", "'"), true
	case strings.Contains(v, " #"):
		return strings.TrimSpace(v[:strings.Index(v, " #")]), true
	}
	return v, true
}
