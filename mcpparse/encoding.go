package mcpparse

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"fmt"
	"io"
	"strings"
)

// SupportedEncoding reports whether DecodeContent can undo encoding, so a
// caller can refuse a body before it has read it.
func SupportedEncoding(encoding string) bool {
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity", "gzip", "x-gzip", "deflate":
		return true
	}
	return false
}

// DecodeContent undoes an HTTP Content-Encoding so the body can be inspected,
// producing at most limit bytes.
//
//   - "" and "identity": body itself.
//   - "gzip" (and its alias "x-gzip"): RFC 1952; concatenated members are
//     read as one stream, as net/http and curl do.
//   - "deflate": RFC 1950 zlib-wrapped deflate as HTTP specifies; raw RFC
//     1951 deflate, which some servers send by mistake, is accepted too (it is
//     recognised by the absence of a valid zlib header).
//
// Anything else — br, zstd, compress, unknown tokens, or more than one
// coding in a list ("gzip, gzip" is rejected, not unwrapped) — returns an
// error wrapping ErrUnsupportedEncoding, so the caller can reject the body
// rather than forward it uninspected. Output beyond limit returns
// ErrTooLarge after reading at most limit+1 bytes, so a decompression bomb
// costs bounded memory; a limit ≤ 0 allows only empty output. Data that is not
// valid for its coding, or trailing bytes after it, return ErrCorruptContent.
func DecodeContent(encoding string, body []byte, limit int) ([]byte, error) {
	coding := strings.ToLower(strings.TrimSpace(encoding))
	if strings.Contains(coding, ",") {
		return nil, fmt.Errorf("%w: %q (stacked codings)", ErrUnsupportedEncoding, encoding)
	}
	var r io.Reader
	src := bytes.NewReader(body)
	switch coding {
	case "", "identity":
		if len(body) > max(limit, 0) {
			return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(body), limit)
		}
		return body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(src)
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCorruptContent, err)
		}
		r = zr
	case "deflate":
		if isZlibHeader(body) {
			zr, err := zlib.NewReader(src)
			if err != nil {
				return nil, fmt.Errorf("%w: deflate: %w", ErrCorruptContent, err)
			}
			r = zr
		} else {
			r = flate.NewReader(src)
		}
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, encoding)
	}

	limit = max(limit, 0)
	var out bytes.Buffer
	out.Grow(min(limit+1, max(4*len(body), 512)))
	n, err := io.Copy(&out, io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptContent, coding, err)
	}
	if n > int64(limit) {
		return nil, fmt.Errorf("%w: more than %d bytes after %s decoding", ErrTooLarge, limit, coding)
	}
	// The decompressor reads src byte by byte (bytes.Reader is an
	// io.ByteReader), so anything left is data after the end of the stream.
	if src.Len() > 0 {
		return nil, fmt.Errorf("%w: %s: %d bytes after the end of the stream", ErrCorruptContent, coding, src.Len())
	}
	return out.Bytes(), nil
}

// isZlibHeader reports whether b starts with an RFC 1950 header for deflate
// (CM 8, window ≤ 32 KiB, FCHECK valid, no preset dictionary).
func isZlibHeader(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	cmf, flg := b[0], b[1]
	return cmf&0x0F == 8 && cmf>>4 <= 7 && (uint16(cmf)<<8|uint16(flg))%31 == 0 && flg&0x20 == 0
}

// EncodeContent applies an HTTP Content-Encoding to body: the inverse of
// DecodeContent, for a body that must go on with the coding it arrived
// with (once a streamed response's headers have left, its
// content-encoding can no longer be removed). "deflate" is written as HTTP
// specifies it, zlib-wrapped (RFC 1950). An encoding DecodeContent does not
// undo returns an error wrapping ErrUnsupportedEncoding.
func EncodeContent(encoding string, body []byte) ([]byte, error) {
	var out bytes.Buffer
	var w io.WriteCloser
	switch strings.ToLower(strings.TrimSpace(encoding)) {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		w = gzip.NewWriter(&out)
	case "deflate":
		w = zlib.NewWriter(&out)
	default:
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedEncoding, encoding)
	}
	if _, err := w.Write(body); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}
