// goverify: an independent verifier for chuqu's log, built only from Go's standard library
// and golang.org/x/mod/sumdb/{note,tlog} (Debian golang-golang-x-mod-dev), so that our C++
// checkpoints, proofs and tiles are checked by a separate implementation.
//
// Usage: goverify MANIFEST
//
// MANIFEST lines (paths relative to the manifest's directory; '#' starts a comment):
//
//	keys        LOG.vkey [WITNESS.vkey ...]         verifier keys for what follows
//	accept|reject inclusion   RECEIPT.tlog-proof ENTRY
//	accept|reject consistency OLD.checkpoint NEW.checkpoint PROOF (base64 hash per line)
//	accept|reject checkpoint  CHECKPOINT                (log signature and body only)
//	accept|reject tiles       CHECKPOINT TILEDIR        (every entry proven from c2sp tiles)
//
// "accept" lines must verify and "reject" lines must fail. Exit status 0 only if every line
// met its expectation; one line of output per check.
package main

import (
	"bufio"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// cosigVerifier checks c2sp.org/tlog-cosignature/v1 (type 0x04) signatures.
type cosigVerifier struct {
	name string
	hash uint32
	pub  ed25519.PublicKey
}

func (v *cosigVerifier) Name() string    { return v.name }
func (v *cosigVerifier) KeyHash() uint32 { return v.hash }
func (v *cosigVerifier) Verify(msg, sig []byte) bool {
	if len(sig) != 8+ed25519.SignatureSize {
		return false
	}
	t := binary.BigEndian.Uint64(sig[:8])
	m := fmt.Sprintf("cosignature/v1\ntime %d\n%s", t, msg)
	return ed25519.Verify(v.pub, []byte(m), sig[8:])
}

func newVerifier(vkey string) (note.Verifier, error) {
	parts := strings.SplitN(vkey, "+", 3)
	if len(parts) == 3 {
		key, err := base64.StdEncoding.DecodeString(parts[2])
		if err == nil && len(key) == 33 && key[0] == 0x04 {
			h := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
			id, err := strconv.ParseUint(parts[1], 16, 32)
			if err != nil || uint32(id) != binary.BigEndian.Uint32(h[:4]) {
				return nil, errors.New("cosignature key: bad key ID")
			}
			return &cosigVerifier{parts[0], uint32(id), ed25519.PublicKey(key[1:])}, nil
		}
	}
	return note.NewVerifier(vkey)
}

type checkpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

var (
	logKey    note.Verifier
	witnesses []note.Verifier
)

// openCheckpoint verifies the log signature (and any known witness cosignature) and parses
// the c2sp tlog-checkpoint body.
func openCheckpoint(msg []byte) (checkpoint, error) {
	var cp checkpoint
	n, err := note.Open(msg, note.VerifierList(append([]note.Verifier{logKey}, witnesses...)...))
	if err != nil {
		return cp, fmt.Errorf("note: %v", err)
	}
	logSigned := false
	for _, s := range n.Sigs {
		if s.Name == logKey.Name() && s.Hash == logKey.KeyHash() {
			logSigned = true
		}
	}
	if !logSigned {
		return cp, errors.New("not signed by the log key")
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return cp, errors.New("checkpoint body: too few lines")
	}
	cp.origin = lines[0]
	if cp.origin != logKey.Name() {
		return cp, fmt.Errorf("origin %q is not the key name %q", cp.origin, logKey.Name())
	}
	cp.size, err = strconv.ParseInt(lines[1], 10, 64)
	if err != nil || cp.size < 0 || lines[1] != strconv.FormatInt(cp.size, 10) {
		return cp, errors.New("checkpoint body: bad size")
	}
	cp.root, err = tlog.ParseHash(lines[2])
	if err != nil {
		return cp, errors.New("checkpoint body: bad root hash")
	}
	return cp, nil
}

func readProof(text string) ([]tlog.Hash, error) {
	var proof []tlog.Hash
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		if l == "" {
			continue
		}
		h, err := tlog.ParseHash(l)
		if err != nil {
			return nil, fmt.Errorf("proof hash: %v", err)
		}
		proof = append(proof, h)
	}
	return proof, nil
}

func checkInclusion(receipt, entry []byte) error {
	parts := strings.SplitN(string(receipt), "\n\n", 2)
	if len(parts) != 2 {
		return errors.New("receipt: no blank line")
	}
	head := strings.Split(parts[0], "\n")
	if head[0] != "c2sp.org/tlog-proof@v1" {
		return errors.New("receipt: bad header")
	}
	head = head[1:]
	if len(head) > 0 && strings.HasPrefix(head[0], "extra ") {
		head = head[1:]
	}
	if len(head) == 0 || !strings.HasPrefix(head[0], "index ") {
		return errors.New("receipt: no index line")
	}
	index, err := strconv.ParseInt(head[0][6:], 10, 64)
	if err != nil || head[0][6:] != strconv.FormatInt(index, 10) {
		return errors.New("receipt: bad index")
	}
	proof, err := readProof(strings.Join(head[1:], "\n"))
	if err != nil {
		return err
	}
	cp, err := openCheckpoint([]byte(parts[1]))
	if err != nil {
		return err
	}
	if index >= cp.size {
		return errors.New("index beyond the tree")
	}
	return tlog.CheckRecord(tlog.RecordProof(proof), cp.size, cp.root, index, tlog.RecordHash(entry))
}

func checkConsistency(oldMsg, newMsg, proofText []byte) error {
	oldCp, err := openCheckpoint(oldMsg)
	if err != nil {
		return fmt.Errorf("old checkpoint: %v", err)
	}
	newCp, err := openCheckpoint(newMsg)
	if err != nil {
		return fmt.Errorf("new checkpoint: %v", err)
	}
	proof, err := readProof(string(proofText))
	if err != nil {
		return err
	}
	return tlog.CheckTree(tlog.TreeProof(proof), newCp.size, newCp.root, oldCp.size, oldCp.root)
}

// dirTiles reads c2sp tlog-tiles paths (Go's x/mod paths carry the height: tile/8/L/N).
type dirTiles struct{ dir string }

func (d dirTiles) Height() int { return 8 }
func (d dirTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		p := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		b, err := os.ReadFile(filepath.Join(d.dir, p))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}
func (d dirTiles) SaveTiles([]tlog.Tile, [][]byte) {}

// entryAt reads entry i from the c2sp entry bundles of a tree of `size` entries.
func entryAt(dir string, i, size int64) ([]byte, error) {
	t := tlog.Tile{H: 8, L: -1, N: i / 256, W: 256}
	if rest := size - t.N*256; rest < 256 {
		t.W = int(rest)
	}
	p := strings.Replace(t.Path(), "tile/8/data/", "tile/entries/", 1)
	b, err := os.ReadFile(filepath.Join(dir, p))
	if err != nil {
		return nil, err
	}
	for k := int64(0); ; k++ {
		if len(b) < 2 {
			return nil, errors.New("entry bundle truncated")
		}
		n := int(binary.BigEndian.Uint16(b))
		if len(b) < 2+n {
			return nil, errors.New("entry bundle truncated")
		}
		if k == i%256 {
			return b[2 : 2+n], nil
		}
		b = b[2+n:]
	}
}

func checkTiles(cpMsg []byte, dir string) error {
	cp, err := openCheckpoint(cpMsg)
	if err != nil {
		return err
	}
	tree := tlog.Tree{N: cp.size, Hash: cp.root}
	hr := tlog.TileHashReader(tree, dirTiles{dir})
	th, err := tlog.TreeHash(cp.size, hr)
	if err != nil || th != cp.root {
		return fmt.Errorf("tree hash from tiles: %v", err)
	}
	for i := int64(0); i < cp.size; i++ {
		p, err := tlog.ProveRecord(cp.size, i, hr)
		if err != nil {
			return fmt.Errorf("prove %d from tiles: %v", i, err)
		}
		e, err := entryAt(dir, i, cp.size)
		if err != nil {
			return fmt.Errorf("entry %d: %v", i, err)
		}
		if err := tlog.CheckRecord(p, cp.size, cp.root, i, tlog.RecordHash(e)); err != nil {
			return fmt.Errorf("entry %d: %v", i, err)
		}
	}
	return nil
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: goverify MANIFEST")
		os.Exit(2)
	}
	base := filepath.Dir(os.Args[1])
	f, err := os.Open(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	read := func(p string) []byte {
		b, err := os.ReadFile(filepath.Join(base, p))
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		return b
	}
	bad, total := 0, 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if fields[0] == "keys" {
			logKey, err = newVerifier(strings.TrimSpace(string(read(fields[1]))))
			if err != nil {
				fmt.Fprintln(os.Stderr, "log key:", err)
				os.Exit(2)
			}
			witnesses = nil
			for _, w := range fields[2:] {
				v, err := newVerifier(strings.TrimSpace(string(read(w))))
				if err != nil {
					fmt.Fprintln(os.Stderr, "witness key:", err)
					os.Exit(2)
				}
				witnesses = append(witnesses, v)
			}
			continue
		}
		if len(fields) < 3 || (fields[0] != "accept" && fields[0] != "reject") || logKey == nil {
			fmt.Fprintln(os.Stderr, "bad manifest line:", sc.Text())
			os.Exit(2)
		}
		var err error
		switch fields[1] {
		case "inclusion":
			err = checkInclusion(read(fields[2]), read(fields[3]))
		case "consistency":
			err = checkConsistency(read(fields[2]), read(fields[3]), read(fields[4]))
		case "checkpoint":
			_, err = openCheckpoint(read(fields[2]))
		case "tiles":
			err = checkTiles(read(fields[2]), filepath.Join(base, fields[3]))
		default:
			fmt.Fprintln(os.Stderr, "unknown check:", fields[1])
			os.Exit(2)
		}
		total++
		want := fields[0] == "accept"
		switch {
		case want && err == nil:
			fmt.Println("ok   accepted", strings.Join(fields[1:], " "))
		case !want && err != nil:
			fmt.Println("ok   rejected", strings.Join(fields[1:], " "), "--", err)
		case want:
			bad++
			fmt.Println("FAIL rejected", strings.Join(fields[1:], " "), "--", err)
		default:
			bad++
			fmt.Println("FAIL accepted", strings.Join(fields[1:], " "))
		}
	}
	fmt.Printf("%d of %d checks as expected\n", total-bad, total)
	if bad > 0 || total == 0 {
		os.Exit(1)
	}
}
