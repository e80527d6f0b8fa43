package source

import (
	"github.com/forensic-dev/forensic/internal/display"

	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"time"

	"github.com/klauspost/compress/flate"
)

// Zip record signatures (PKWARE APPNOTE 4.3).
const (
	sigLocalHeader   = 0x04034b50
	sigCentralHeader = 0x02014b50
	sigEnd           = 0x06054b50
	sigEnd64         = 0x06064b50
	sigDescriptor    = 0x08074b50

	zipFlagEncrypted  = 0x1
	zipFlagDescriptor = 0x8

	zipStore   = 0
	zipDeflate = 8
)

// byteCounter is a bufio.Reader that counts the bytes consumed. It is an
// io.ByteReader, so flate reads exactly the deflate stream from it and no
// further.
type byteCounter struct {
	br *bufio.Reader
	n  int64
}

func (c *byteCounter) Read(p []byte) (int, error) {
	n, err := c.br.Read(p)
	c.n += int64(n)
	return n, err
}

func (c *byteCounter) ReadByte() (byte, error) {
	b, err := c.br.ReadByte()
	if err == nil {
		c.n++
	}
	return b, err
}

// zipRecover emits the members of a zip whose central directory cannot be
// read, by walking its local file headers in file order (APPNOTE 4.3.7):
//
//	signature 50 4b 03 04, version (2), flags (2), method (2), DOS time (2),
//	DOS date (2), CRC-32 (4), compressed size (4), uncompressed size (4),
//	name length (2), extra length (2), name, extra, data
//
// With flag 0x8 the CRC and sizes follow the data in a data descriptor
// (optional signature 50 4b 07 08, CRC-32, then 4- or, for zip64, 8-byte
// sizes); only deflated data can be delimited then. It stops at the first
// central directory record. n counts the members handed to the visitor;
// archErr says why recovery stopped early.
func (w *walker) zipRecover(parent Entry, br *bufio.Reader, depth int) (n int, archErr, stop error) {
	in := &byteCounter{br: br}
	var total int64
	for idx := 0; ; idx++ {
		if err := w.ctx.Err(); err != nil {
			return n, nil, err
		}
		off := in.n
		var hdr [30]byte
		k, err := io.ReadFull(in, hdr[:])
		if err == io.EOF || (k >= 4 && isZipEndRecord(binary.LittleEndian.Uint32(hdr[:4]))) {
			return n, nil, nil
		}
		if err != nil {
			return n, fmt.Errorf("local header at offset %d: %w", off, err), nil
		}
		if sig := binary.LittleEndian.Uint32(hdr[:4]); sig != sigLocalHeader {
			return n, fmt.Errorf("no local header at offset %d (found %08x)", off, sig), nil
		}
		flags := binary.LittleEndian.Uint16(hdr[6:])
		method := binary.LittleEndian.Uint16(hdr[8:])
		mtime := binary.LittleEndian.Uint16(hdr[10:])
		mdate := binary.LittleEndian.Uint16(hdr[12:])
		wantCRC := binary.LittleEndian.Uint32(hdr[14:])
		csize := uint64(binary.LittleEndian.Uint32(hdr[18:]))
		usize := uint64(binary.LittleEndian.Uint32(hdr[22:]))
		nameExtra := make([]byte, int(binary.LittleEndian.Uint16(hdr[26:]))+int(binary.LittleEndian.Uint16(hdr[28:])))
		if _, err := io.ReadFull(in, nameExtra); err != nil {
			return n, fmt.Errorf("local header at offset %d: %w", off, noEOF(err)), nil
		}
		nameLen := int(binary.LittleEndian.Uint16(hdr[26:]))
		name, extra := string(nameExtra[:nameLen]), nameExtra[nameLen:]
		zip64 := false
		if csize == 0xffffffff || usize == 0xffffffff {
			if u, c, ok := zip64Sizes(extra); ok {
				usize, csize, zip64 = u, c, true
			}
		}
		descriptor := flags&zipFlagDescriptor != 0
		m := memberOf(parent, name, idx)
		m.Size, m.ModTime = -1, msDosTime(mdate, mtime)
		if !descriptor && usize <= 1<<62 {
			m.Size = int64(usize)
		}
		if len(name) > 0 && name[len(name)-1] == '/' && !descriptor && csize == 0 {
			continue // a directory
		}
		var data io.Reader // the member's stored bytes
		switch {
		case !descriptor:
			if csize > 1<<62 {
				return n, fmt.Errorf("member %s: compressed size %d out of range", display.Quote(name), csize), nil
			}
			data = io.LimitReader(in, int64(csize))
		case method == zipDeflate && flags&zipFlagEncrypted == 0:
			data = in
		default:
			return n, fmt.Errorf("member %s: method %d with a data descriptor cannot be delimited without the central directory", display.Quote(name), method), nil
		}
		var body io.Reader
		closeBody := func() error { return nil }
		switch {
		case flags&zipFlagEncrypted != 0:
			m.Err = errors.New("encrypted zip member")
		case method == zipStore:
			body = data
		case method == zipDeflate:
			fr := flate.NewReader(data)
			closeBody = fr.Close
			start := in.n
			body = w.newGuard(fr, func() int64 { return in.n - start }, &total)
		default:
			m.Err = fmt.Errorf("unsupported compression method %d", method)
		}
		if m.Err != nil {
			if stop := w.emit(&m); stop != nil {
				return n, nil, stop
			}
			if err := w.drain(data); err != nil {
				return n, fmt.Errorf("member %s: %w", display.Quote(name), noEOF(err)), w.ctx.Err()
			}
			continue
		}
		cr := &crcReader{r: body, h: crc32.NewIEEE()}
		if !descriptor {
			cr.check = func() error { return checkCRC(cr, wantCRC, usize) }
		} else {
			cr.check = func() error {
				crc, size, err := readDescriptor(in, zip64)
				if err != nil {
					return err
				}
				return checkCRC(cr, crc, size)
			}
		}
		track := &errTrack{r: cr}
		n++
		stop = w.item(m, track, nil, depth+1)
		closeBody()
		if stop != nil {
			return n, nil, stop
		}
		if descriptor {
			if track.err != nil {
				return n, fmt.Errorf("member %s: %w", display.Quote(name), track.err), nil
			}
			continue
		}
		// The sizes are known: skip any rest (a member whose data failed
		// included) and go on with the next header.
		if err := w.drain(data); err != nil {
			return n, fmt.Errorf("member %s: %w", display.Quote(name), err), w.ctx.Err()
		}
	}
}

func isZipEndRecord(sig uint32) bool {
	return sig == sigCentralHeader || sig == sigEnd || sig == sigEnd64
}

// noEOF turns io.EOF inside a record into io.ErrUnexpectedEOF.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// zip64Sizes reads the zip64 extended information extra field (tag 0x0001):
// uncompressed then compressed size, 8 bytes each.
func zip64Sizes(extra []byte) (usize, csize uint64, ok bool) {
	for len(extra) >= 4 {
		tag := binary.LittleEndian.Uint16(extra)
		size := int(binary.LittleEndian.Uint16(extra[2:]))
		extra = extra[4:]
		if size > len(extra) {
			return 0, 0, false
		}
		if tag == 0x0001 && size >= 16 {
			return binary.LittleEndian.Uint64(extra), binary.LittleEndian.Uint64(extra[8:]), true
		}
		extra = extra[size:]
	}
	return 0, 0, false
}

// readDescriptor reads a data descriptor: optional signature, CRC-32,
// compressed and uncompressed sizes.
func readDescriptor(r io.Reader, zip64 bool) (crc uint32, usize uint64, err error) {
	var b [24]byte
	if _, err := io.ReadFull(r, b[:4]); err != nil {
		return 0, 0, fmt.Errorf("data descriptor: %w", noEOF(err))
	}
	if binary.LittleEndian.Uint32(b[:4]) == sigDescriptor {
		if _, err := io.ReadFull(r, b[:4]); err != nil {
			return 0, 0, fmt.Errorf("data descriptor: %w", noEOF(err))
		}
	}
	crc = binary.LittleEndian.Uint32(b[:4])
	sizes := b[4:12]
	if zip64 {
		sizes = b[4:20]
	}
	if _, err := io.ReadFull(r, sizes); err != nil {
		return 0, 0, fmt.Errorf("data descriptor: %w", noEOF(err))
	}
	if zip64 {
		return crc, binary.LittleEndian.Uint64(sizes[8:]), nil
	}
	return crc, uint64(binary.LittleEndian.Uint32(sizes[4:])), nil
}

var errZipChecksum = errors.New("zip: checksum error")

func checkCRC(cr *crcReader, crc uint32, size uint64) error {
	switch {
	case cr.n < size:
		return fmt.Errorf("%w after %d of %d bytes", io.ErrUnexpectedEOF, cr.n, size)
	case cr.n != size:
		return fmt.Errorf("zip: member is %d bytes, header says %d", cr.n, size)
	case cr.h.Sum32() != crc:
		return errZipChecksum
	}
	return nil
}

// crcReader computes CRC-32 and length of what it reads and, at io.EOF,
// returns check's error instead if there is one.
type crcReader struct {
	r     io.Reader
	h     hash.Hash32
	n     uint64
	check func() error
	err   error // sticky: io.EOF or the check's error
}

func (c *crcReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	c.n += uint64(n)
	if err == io.EOF {
		if cerr := c.check(); cerr != nil {
			err = cerr
		}
		c.err = err
	}
	return n, err
}

// msDosTime converts an MS-DOS date and time (APPNOTE 4.4.6) to UTC, as
// archive/zip does for headers without an extended timestamp.
func msDosTime(d, t uint16) time.Time {
	return time.Date(int(d>>9)+1980, time.Month(d>>5&0xf), int(d&0x1f),
		int(t>>11), int(t>>5&0x3f), int(t&0x1f)*2, 0, time.UTC)
}
