// Command coldstart-probe-go is the coldstart probe in Go: the probe core and line
// protocol of probes/core, standard library only, built static (CGO_ENABLED=0) so the
// same file runs as a process and as the only file of a FROM-scratch image.
//
//	coldstart-probe-go [serve|once|lambda] [--instance-nonce HEX] [--init-kib N]
//	                   [--init-iters N] [--invoke-iters N] [--nonce HEX]
//
// serve (the default) prints READY and answers INVOKE lines until EXIT or end of
// input; once runs one invocation and prints its DONE line; lambda runs the Lambda
// Runtime API loop at $AWS_LAMBDA_RUNTIME_API. Parameters also come from
// COLDSTART_INSTANCE_NONCE, COLDSTART_INIT_KIB, COLDSTART_INIT_ITERS and
// COLDSTART_INVOKE_ITERS (flags win); COLDSTART_TEST_SLEEP (tests only) sleeps at a
// known point.
//
// The arithmetic is on uint64, which wraps like the Rust core's wrapping u64.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const (
	seed               uint64 = 0x636f6c6473746172 // "coldstar"
	golden             uint64 = 0x9e3779b97f4a7c15
	defaultInitKiB            = 4
	defaultInitIters          = 100
	defaultInvokeIters        = 50
	usage                     = "usage: coldstart-probe-go [serve|once|lambda] [--instance-nonce HEX] " +
		"[--init-kib N] [--init-iters N] [--invoke-iters N] [--nonce HEX]"
)

// mix is the splitmix64 finaliser.
func mix(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// probe is one instance: its init state, keyed by the start's instance nonce.
type probe struct {
	id          uint64
	memory      []uint64
	digest      uint64
	invocations uint64
}

func newProbe(id, instanceNonce, initKiB, initIters uint64) *probe {
	key := mix(instanceNonce ^ golden)
	count := initKiB * 128
	memory := make([]uint64, count)
	folded := mix(seed ^ initKiB ^ key)
	for i := range memory {
		word := mix(seed+golden*uint64(i+1)) ^ key
		memory[i] = word
		folded = bits.RotateLeft64(folded, 5) ^ word
	}
	digest := mix(folded)
	for i := uint64(0); i < initIters; i++ {
		digest = mix(digest ^ i)
	}
	return &probe{id: id, memory: memory, digest: digest}
}

func (p *probe) checksum(iters, nonce uint64) uint64 {
	n := uint64(len(p.memory))
	x := mix(p.digest ^ iters*golden ^ mix(nonce^seed))
	for i := uint64(0); i < iters; i++ {
		var word uint64
		if n > 0 {
			word = p.memory[x%n]
		}
		x = mix(x ^ word ^ i)
	}
	return x
}

// invoke serves one request and returns its index and checksum.
func (p *probe) invoke(iters, nonce uint64) (uint64, uint64) {
	index := p.invocations
	p.invocations++
	return index, p.checksum(iters, nonce)
}

type args struct {
	mode                              string
	instanceNonce, initKiB, initIters uint64
	invokeIters, nonce                uint64
	sleepInit, sleepInvoke            time.Duration
}

func hexU64(what, text string) (uint64, error) {
	v, err := strconv.ParseUint(text, 16, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a hexadecimal u64", what, text)
	}
	return v, nil
}

func decU64(what, text string) (uint64, error) {
	v, err := strconv.ParseUint(text, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q is not a non-negative integer", what, text)
	}
	return v, nil
}

func envU64(name string, fallback uint64) (uint64, error) {
	text, ok := os.LookupEnv(name)
	if !ok {
		return fallback, nil
	}
	return decU64(name+"=", text)
}

// testSleep reads COLDSTART_TEST_SLEEP, e.g. "init:200ms,invoke:5ms".
func testSleep(a *args) error {
	for _, part := range strings.Split(os.Getenv("COLDSTART_TEST_SLEEP"), ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		point, amount, ok := strings.Cut(part, ":")
		d, err := time.ParseDuration(strings.TrimSpace(amount))
		if !ok || err != nil || !(strings.HasSuffix(amount, "ms") || strings.HasSuffix(amount, "us")) {
			return fmt.Errorf("COLDSTART_TEST_SLEEP: %q is not <point>:<duration>", part)
		}
		switch point {
		case "init":
			a.sleepInit = d
		case "invoke":
			a.sleepInvoke = d
		default:
			return fmt.Errorf("COLDSTART_TEST_SLEEP: unknown point %q (init, invoke)", point)
		}
	}
	return nil
}

func parseArgs(argv []string) (*args, error) {
	a := &args{mode: "serve"}
	var err error
	if text, ok := os.LookupEnv("COLDSTART_INSTANCE_NONCE"); ok {
		if a.instanceNonce, err = hexU64("COLDSTART_INSTANCE_NONCE=", text); err != nil {
			return nil, err
		}
	}
	if a.initKiB, err = envU64("COLDSTART_INIT_KIB", defaultInitKiB); err != nil {
		return nil, err
	}
	if a.initIters, err = envU64("COLDSTART_INIT_ITERS", defaultInitIters); err != nil {
		return nil, err
	}
	if a.invokeIters, err = envU64("COLDSTART_INVOKE_ITERS", defaultInvokeIters); err != nil {
		return nil, err
	}
	if err = testSleep(a); err != nil {
		return nil, err
	}
	flags := map[string]struct {
		dst   *uint64
		parse func(string, string) (uint64, error)
	}{
		"--instance-nonce": {&a.instanceNonce, hexU64},
		"--init-kib":       {&a.initKiB, decU64},
		"--init-iters":     {&a.initIters, decU64},
		"--invoke-iters":   {&a.invokeIters, decU64},
		"--nonce":          {&a.nonce, hexU64},
	}
	for i := 0; i < len(argv); i++ {
		word := argv[i]
		switch {
		case word == "serve" || word == "once" || word == "lambda":
			a.mode = word
		case word == "-h" || word == "--help":
			return nil, errors.New("")
		default:
			flag, ok := flags[word]
			if !ok {
				return nil, fmt.Errorf("unknown argument %q", word)
			}
			if i+1 == len(argv) {
				return nil, fmt.Errorf("%s needs a value", word)
			}
			i++
			if *flag.dst, err = flag.parse(word, argv[i]); err != nil {
				return nil, err
			}
		}
	}
	return a, nil
}

// parseInvoke reads "INVOKE <seq> <nonce:016x> <iters>"; exit is true for "EXIT".
func parseInvoke(line string) (seq, nonce, iters uint64, exit bool, err error) {
	line = strings.TrimRight(line, "\r\n")
	words := strings.Split(line, " ")
	if len(words) == 1 && words[0] == "EXIT" {
		return 0, 0, 0, true, nil
	}
	bad := fmt.Errorf("not a probe protocol line: %q", line)
	if len(words) != 4 || words[0] != "INVOKE" || len(words[2]) != 16 {
		return 0, 0, 0, false, bad
	}
	var e1, e2, e3 error
	seq, e1 = strconv.ParseUint(words[1], 10, 64)
	nonce, e2 = strconv.ParseUint(words[2], 16, 64)
	iters, e3 = strconv.ParseUint(words[3], 10, 64)
	if e1 != nil || e2 != nil || e3 != nil {
		return 0, 0, 0, false, bad
	}
	return seq, nonce, iters, false, nil
}

func serve(p *probe, a *args) error {
	in := bufio.NewReader(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	fmt.Fprintf(out, "READY %016x\n", p.id)
	if err := out.Flush(); err != nil {
		return err
	}
	for {
		line, err := in.ReadString('\n')
		if line == "" && err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		seq, nonce, iters, exit, perr := parseInvoke(line)
		switch {
		case exit:
			return nil
		case perr != nil:
			fmt.Fprintf(out, "ERR %s\n", perr)
		default:
			time.Sleep(a.sleepInvoke)
			index, checksum := p.invoke(iters, nonce)
			fmt.Fprintf(out, "DONE %d %016x %d %016x\n", seq, p.id, index, checksum)
		}
		if err := out.Flush(); err != nil {
			return err
		}
	}
}

// lambdaLoop polls the Lambda Runtime API for the next event and answers it, forever.
func lambdaLoop(p *probe, a *args) error {
	// Lambda gives host:port; an emulator may give a whole base URL.
	base := os.Getenv("AWS_LAMBDA_RUNTIME_API")
	if !strings.HasPrefix(base, "http://") {
		base = "http://" + base
	}
	api := base + "/2018-06-01/runtime/invocation/"
	for {
		event, err := http.Get(api + "next")
		if err != nil {
			return err
		}
		requestID := event.Header.Get("Lambda-Runtime-Aws-Request-Id")
		var request struct {
			Seq   uint64 `json:"seq"`
			Nonce string `json:"nonce"`
			Iters uint64 `json:"iters"`
		}
		err = json.NewDecoder(event.Body).Decode(&request)
		event.Body.Close()
		var nonce uint64
		if err == nil {
			nonce, err = hexU64("nonce", request.Nonce)
		}
		path, body := "/response", any(nil)
		if err != nil {
			path, body = "/error", map[string]string{"errorMessage": err.Error(), "errorType": "BadRequest"}
		} else {
			time.Sleep(a.sleepInvoke)
			index, checksum := p.invoke(request.Iters, nonce)
			body = map[string]any{
				"seq":         request.Seq,
				"instance_id": fmt.Sprintf("%016x", p.id),
				"index":       index,
				"checksum":    fmt.Sprintf("%016x", checksum),
			}
		}
		encoded, _ := json.Marshal(body)
		answer, err := http.Post(api+requestID+path, "application/json", bytes.NewReader(encoded))
		if err != nil {
			return err
		}
		answer.Body.Close()
	}
}

func main() {
	a, err := parseArgs(os.Args[1:])
	if err != nil {
		if err.Error() != "" {
			fmt.Fprintf(os.Stderr, "coldstart-probe: %s\n", err)
		}
		fmt.Fprintln(os.Stderr, usage)
		os.Exit(2)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		// A probe that cannot draw an id must not answer with a made-up one.
		fmt.Fprintf(os.Stderr, "coldstart-probe: the OS random source is unavailable: %s\n", err)
		os.Exit(1)
	}
	p := newProbe(binary.LittleEndian.Uint64(raw[:]), a.instanceNonce, a.initKiB, a.initIters)
	time.Sleep(a.sleepInit)
	switch a.mode {
	case "once":
		time.Sleep(a.sleepInvoke)
		index, checksum := p.invoke(a.invokeIters, a.nonce)
		fmt.Printf("DONE 0 %016x %d %016x\n", p.id, index, checksum)
	case "lambda":
		err = lambdaLoop(p, a)
	default:
		err = serve(p, a)
	}
	// EPIPE: the harness closed the pipe, so nothing is left to answer.
	if err != nil && !errors.Is(err, syscall.EPIPE) {
		fmt.Fprintf(os.Stderr, "coldstart-probe: %s\n", err)
		os.Exit(1)
	}
}
