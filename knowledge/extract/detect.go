package extract

import (
	"bytes"
	"fmt"
	"mime"
	"strings"
)

// extFormats are the file name extensions we read.
var extFormats = map[string]Format{
	".md": Markdown, ".markdown": Markdown,
	".html": HTML, ".htm": HTML,
	".txt": Text, ".text": Text,
	".pdf": PDF,
	".csv": CSV,
}

// extRefused are extensions of types we know and do not read.
var extRefused = map[string]string{
	".docx": "Word document", ".doc": "Word document", ".odt": "OpenDocument text", ".rtf": "RTF document",
	".xlsx": "Excel workbook", ".xls": "Excel workbook", ".ods": "OpenDocument spreadsheet",
	".pptx": "PowerPoint presentation", ".ppt": "PowerPoint presentation", ".epub": "EPUB book",
	".zip": "zip archive", ".gz": "gzip archive", ".tar": "tar archive", ".7z": "7-Zip archive", ".rar": "RAR archive",
	".png": "PNG image", ".jpg": "JPEG image", ".jpeg": "JPEG image", ".gif": "GIF image", ".webp": "WebP image",
	".svg": "SVG image", ".bmp": "BMP image", ".tif": "TIFF image", ".tiff": "TIFF image", ".heic": "HEIC image",
	".mp3": "audio", ".wav": "audio", ".mp4": "video", ".mov": "video", ".exe": "executable",
	".json": "JSON document", ".xml": "XML document",
}

// typeFormats are the media types we read.
var typeFormats = map[string]Format{
	"text/markdown": Markdown, "text/x-markdown": Markdown,
	"text/html": HTML, "application/xhtml+xml": HTML,
	"text/plain":      Text,
	"application/pdf": PDF, "application/x-pdf": PDF,
	"text/csv": CSV, "application/csv": CSV, "text/tab-separated-values": CSV,
}

// magics are leading bytes of binary types we know and do not read.
var magics = []struct {
	prefix string
	name   string
}{
	{"\x89PNG\r\n\x1a\n", "PNG image"},
	{"\xff\xd8\xff", "JPEG image"},
	{"GIF87a", "GIF image"},
	{"GIF89a", "GIF image"},
	{"II*\x00", "TIFF image"},
	{"MM\x00*", "TIFF image"},
	{"BM", ""}, // checked further below: too short to trust alone
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "legacy Office document (doc/xls/ppt)"},
	{"{\\rtf", "RTF document"},
	{"\x1f\x8b", "gzip archive"},
	{"7z\xbc\xaf\x27\x1c", "7-Zip archive"},
	{"Rar!", "RAR archive"},
	{"%!PS", "PostScript document"},
	{"\x7fELF", "executable"},
	{"MZ", ""},
}

// Detect picks the format of an uploaded file: from the file name's
// extension first, then the declared Content-Type (parameters ignored),
// then the content itself (%PDF- magic, <html or <!doctype html). Plain
// UTF-8 text falls back to Text. Known types we do not read (images,
// archives, Office documents) and binary content are ErrUnsupported with the
// type named.
func Detect(filename, contentType string, data []byte) (Format, error) {
	if ext := extension(filename); ext != "" {
		if f, ok := extFormats[ext]; ok {
			return f, nil
		}
		if name, ok := extRefused[ext]; ok {
			return "", fmt.Errorf("%w: %s (%s)", ErrUnsupported, name, ext)
		}
	}
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			mt, _, _ = strings.Cut(contentType, ";")
		}
		mt = strings.ToLower(strings.TrimSpace(mt))
		if f, ok := typeFormats[mt]; ok {
			return f, nil
		}
		if refusedType(mt) {
			return "", fmt.Errorf("%w: %s", ErrUnsupported, mt)
		}
	}
	return sniff(data)
}

// extension returns the lower-case extension of a file name (a path with
// / or \ separators), with its dot.
func extension(name string) string {
	name = name[strings.LastIndexAny(name, `/\`)+1:]
	i := strings.LastIndexByte(name, '.')
	if i < 0 {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(name[i:]))
}

// refusedType reports whether a media type is one we know and do not read.
func refusedType(mt string) bool {
	for _, p := range []string{"image/", "audio/", "video/", "font/", "application/vnd.", "application/zip",
		"application/x-zip", "application/msword", "application/gzip", "application/x-7z", "application/x-rar",
		"application/x-tar", "application/rtf", "application/epub", "application/json", "application/xml"} {
		if strings.HasPrefix(mt, p) {
			return true
		}
	}
	return false
}

// sniff picks the format from the content alone.
func sniff(data []byte) (Format, error) {
	head := data[:min(len(data), 1024)]
	if bytes.Contains(head, []byte("%PDF-")) {
		return PDF, nil
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) || bytes.HasPrefix(data, []byte("PK\x05\x06")) {
		return "", fmt.Errorf("%w: %s", ErrUnsupported, zipKind(data))
	}
	for _, m := range magics {
		if !bytes.HasPrefix(data, []byte(m.prefix)) || m.name == "" {
			continue
		}
		return "", fmt.Errorf("%w: %s", ErrUnsupported, m.name)
	}
	if bytes.HasPrefix(data, []byte("RIFF")) && len(data) >= 12 && string(data[8:12]) == "WEBP" {
		return "", fmt.Errorf("%w: WebP image", ErrUnsupported)
	}
	if binary(data) {
		return "", fmt.Errorf("%w: binary content", ErrUnsupported)
	}
	lead := bytes.ToLower(bytes.TrimLeft(bytes.TrimPrefix(head, []byte(bom)), " \t\r\n"))
	if bytes.HasPrefix(lead, []byte("<!doctype html")) || bytes.HasPrefix(lead, []byte("<html")) {
		return HTML, nil
	}
	return Text, nil
}

// zipKind names a zip file by its first entries (Office documents are zips).
func zipKind(data []byte) string {
	head := data[:min(len(data), 4096)]
	switch {
	case bytes.Contains(head, []byte("word/")):
		return "Word document (docx)"
	case bytes.Contains(head, []byte("xl/")):
		return "Excel workbook (xlsx)"
	case bytes.Contains(head, []byte("ppt/")):
		return "PowerPoint presentation (pptx)"
	case bytes.Contains(head, []byte("application/epub")):
		return "EPUB book"
	case bytes.Contains(head, []byte("opendocument")):
		return "OpenDocument file"
	}
	return "zip archive"
}

// binary reports whether data looks like binary rather than text: NUL
// bytes, many control characters, or more than 10% of bytes that decode as
// no text.
func binary(data []byte) bool {
	if binaryControls(data) {
		return true
	}
	sample := data[:min(len(data), 8192)]
	_, bad := decodeText(sample)
	return bad*10 > len(sample)
}
