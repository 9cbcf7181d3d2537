package client_test

// The server under test, started once for the package on first use.
//
// It is the executable named by DISKDB_SERVER, run as
// `$DISKDB_SERVER --port N --dir DIR --shards 2`. Only when that is unset and
// DISKDB_TEST_AGAINST_REDIS=1 is set, `redis-server --port N --dir DIR
// --save ''` stands in. With neither, every integration test fails with an
// explanation (the parser unit tests still run).

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/transybao1393/diskdb/client"
)

const startTimeout = 60 * time.Second // a fresh RocksDB-backed server may take a while

const noServerMessage = "no server to test against: set DISKDB_SERVER to the DiskDB server " +
	"executable (run as `$DISKDB_SERVER --port N --dir DIR --shards 2`), or set " +
	"DISKDB_TEST_AGAINST_REDIS=1 to test against redis-server instead"

type testServer struct {
	addr    string
	cmd     *exec.Cmd
	dataDir string
	logPath string
	exited  chan struct{}
}

var (
	serverOnce sync.Once
	server     *testServer
	serverErr  error
	dataRoot   string

	probes sync.Map // command name -> skip reason ("" if supported)
)

func TestMain(m *testing.M) {
	code := m.Run()
	if server != nil {
		server.stop()
	}
	if dataRoot != "" {
		os.RemoveAll(dataRoot)
	}
	os.Exit(code)
}

// serverCommand returns the server's command line (see the file comment).
func serverCommand(port int, dir string) ([]string, error) {
	p := strconv.Itoa(port)
	if exe := os.Getenv("DISKDB_SERVER"); exe != "" {
		if info, err := os.Stat(exe); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
			return nil, fmt.Errorf("DISKDB_SERVER=%s is not an executable file", exe)
		}
		return []string{exe, "--port", p, "--dir", dir, "--shards", "2"}, nil
	}
	if os.Getenv("DISKDB_TEST_AGAINST_REDIS") == "1" {
		exe, err := exec.LookPath("redis-server")
		if err != nil {
			return nil, fmt.Errorf("DISKDB_TEST_AGAINST_REDIS=1 but redis-server is not on PATH")
		}
		return []string{exe, "--port", p, "--dir", dir, "--save", ""}, nil
	}
	return nil, errors.New(noServerMessage)
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startServer() (*testServer, error) {
	if _, err := serverCommand(0, ""); err != nil {
		return nil, err
	}
	var err error
	if dataRoot, err = os.MkdirTemp("", "diskdb-gotest-"); err != nil {
		return nil, err
	}
	var lastLog string
	for attempt := 0; attempt < 3; attempt++ { // the port may be taken between probe and bind
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		s := &testServer{
			addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(port)),
			dataDir: filepath.Join(dataRoot, fmt.Sprintf("run%d", attempt)),
			exited:  make(chan struct{}),
		}
		s.logPath = filepath.Join(dataRoot, fmt.Sprintf("server%d.log", attempt))
		if err := os.Mkdir(s.dataDir, 0o755); err != nil {
			return nil, err
		}
		args, _ := serverCommand(port, s.dataDir)
		logFile, err := os.Create(s.logPath)
		if err != nil {
			return nil, err
		}
		s.cmd = exec.Command(args[0], args[1:]...)
		s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
		err = s.cmd.Start()
		logFile.Close()
		if err != nil {
			return nil, err
		}
		go func() { s.cmd.Wait(); close(s.exited) }() //nolint:errcheck // exit status is irrelevant
		ready, err := s.waitReady()
		if err != nil {
			s.stop()
			return nil, err
		}
		if ready {
			return s, nil
		}
		lastLog = s.log()
	}
	return nil, fmt.Errorf("server exited during startup:\n%s", lastLog)
}

// waitReady polls PING; false if the process exited first.
func (s *testServer) waitReady() (bool, error) {
	c := client.New(client.Options{Addr: s.addr, DialTimeout: time.Second, ReadTimeout: 2 * time.Second})
	defer c.Close()
	deadline := time.Now().Add(startTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return false, nil
		default:
		}
		if c.Ping(context.Background()) == nil {
			return true, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false, fmt.Errorf("server did not answer PING within %v:\n%s", startTimeout, s.log())
}

func (s *testServer) log() string {
	data, _ := os.ReadFile(s.logPath)
	if len(data) > 4000 {
		data = data[len(data)-4000:]
	}
	return string(data)
}

// stop sends SIGTERM, then SIGKILL if the server does not exit in time.
func (s *testServer) stop() {
	s.cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // may have exited already
	select {
	case <-s.exited:
	case <-time.After(15 * time.Second):
		s.cmd.Process.Kill() //nolint:errcheck
		<-s.exited
	}
}

// newClient connects a client to the (started on first use) server, closed
// when the test ends. The server is not flushed.
func newClient(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	serverOnce.Do(func() { server, serverErr = startServer() })
	if serverErr != nil {
		t.Fatal(serverErr)
	}
	opts = append([]client.Option{client.WithDialTimeout(5 * time.Second), client.WithReadTimeout(10 * time.Second)}, opts...)
	c, err := client.Connect(server.addr, opts...)
	if err != nil {
		t.Fatalf("Connect(%s): %v", server.addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// flushedClient is newClient on an emptied server.
func flushedClient(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	c := newClient(t, opts...)
	if _, err := c.Do(context.Background(), "FLUSHALL"); err != nil {
		t.Fatalf("FLUSHALL: %v", err)
	}
	return c
}

// requireCommand skips the test only if the server answers "ERR unknown
// command" to probe (probed once per command name).
func requireCommand(t *testing.T, c *client.Client, probe ...interface{}) {
	t.Helper()
	name := fmt.Sprint(probe[0])
	reason, ok := probes.Load(name)
	if !ok {
		reason = ""
		_, err := c.Do(context.Background(), probe...)
		var e *client.RedisError
		if errors.As(err, &e) && strings.HasPrefix(e.Message, "ERR unknown command") {
			reason = fmt.Sprintf("server lacks %s: %s", name, e.Message)
		}
		probes.Store(name, reason)
	}
	if reason != "" {
		t.Skip(reason)
	}
}
