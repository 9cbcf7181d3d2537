package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"reflect"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/transybao1393/diskdb/client"
)

var ctx = context.Background()

// result is a (value, error) pair: must(c.Get(ctx, "k")).get(t) returns
// the value, failing the test on an error.
type result[T any] struct {
	v   T
	err error
}

func must[T any](v T, err error) result[T] { return result[T]{v, err} }

func (r result[T]) get(t *testing.T) T {
	t.Helper()
	if r.err != nil {
		t.Fatal(r.err)
	}
	return r.v
}

func noErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func check(t *testing.T, what string, got, want interface{}) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func sorted(s []string) []string {
	s = append([]string(nil), s...)
	sort.Strings(s)
	return s
}

func TestStrings(t *testing.T) {
	c := flushedClient(t)
	if err := c.Set(ctx, "greeting", "hello", 0); err != nil {
		t.Fatal(err)
	}
	check(t, "Get", must(c.Get(ctx, "greeting")).get(t), "hello")
	if _, err := c.Get(ctx, "missing"); err != client.ErrNil {
		t.Errorf("Get(missing) error = %v, want client.ErrNil", err)
	}
	noErr(t, c.Set(ctx, "temp", 42, 1500*time.Millisecond))
	check(t, "Get(temp)", must(c.Get(ctx, "temp")).get(t), "42")
	if ttl := must(c.TTL(ctx, "temp")).get(t); ttl <= 0 || ttl > 2*time.Second {
		t.Errorf("TTL(temp) = %v", ttl)
	}
	noErr(t, c.Set(ctx, "temp", "kept", client.KeepTTL))
	if ttl := must(c.TTL(ctx, "temp")).get(t); ttl <= 0 {
		t.Errorf("TTL after KeepTTL = %v", ttl)
	}
	check(t, "SetNX(new)", must(c.SetNX(ctx, "lock", "me", time.Minute)).get(t), true)
	check(t, "SetNX(existing)", must(c.SetNX(ctx, "lock", "you", time.Minute)).get(t), false)
	check(t, "Get(lock)", must(c.Get(ctx, "lock")).get(t), "me")
	noErr(t, c.MSet(ctx, "a", "1", "b", 2))
	noErr(t, c.MSet(ctx, map[string]interface{}{"c": "3"}))
	check(t, "MGet", must(c.MGet(ctx, "a", "missing", "b", "c")).get(t), []interface{}{"1", nil, "2", "3"})
	check(t, "binary", must(client.String(c.Do(ctx, "ECHO", []byte{0, '\r', '\n', 255}))).get(t), "\x00\r\n\xff")
}

func TestCounters(t *testing.T) {
	c := flushedClient(t)
	check(t, "Incr", must(c.Incr(ctx, "visits")).get(t), int64(1))
	check(t, "IncrBy", must(c.IncrBy(ctx, "visits", 10)).get(t), int64(11))
	check(t, "Decr", must(c.Decr(ctx, "visits")).get(t), int64(10))
	check(t, "Get", must(c.Get(ctx, "visits")).get(t), "10")
}

func TestKeys(t *testing.T) {
	c := flushedClient(t)
	noErr(t, c.Set(ctx, "s", "v", 0))
	must(c.RPush(ctx, "l", "x")).get(t)
	must(c.HSet(ctx, "h", "f", "v")).get(t)
	must(c.SAdd(ctx, "st", "m")).get(t)
	must(c.ZAdd(ctx, "z", client.Z{Score: 1, Member: "m"})).get(t)
	for key, want := range map[string]string{"s": "string", "l": "list", "h": "hash", "st": "set", "z": "zset", "nope": "none"} {
		check(t, "Type("+key+")", must(c.Type(ctx, key)).get(t), want)
	}
	check(t, "Exists", must(c.Exists(ctx, "s", "l", "nope", "s")).get(t), int64(3))
	check(t, "Del", must(c.Del(ctx, "s", "l", "nope")).get(t), int64(2))
	check(t, "Exists after Del", must(c.Exists(ctx, "s", "l")).get(t), int64(0))

	check(t, "TTL(no expiry)", must(c.TTL(ctx, "h")).get(t), time.Duration(-1))
	check(t, "TTL(missing)", must(c.TTL(ctx, "nope")).get(t), time.Duration(-2))
	check(t, "Expire", must(c.Expire(ctx, "h", time.Minute)).get(t), true)
	check(t, "Expire(missing)", must(c.Expire(ctx, "nope", time.Minute)).get(t), false)
	if ttl := must(c.TTL(ctx, "h")).get(t); ttl <= 50*time.Second || ttl > time.Minute {
		t.Errorf("TTL = %v", ttl)
	}
	check(t, "Expire(ms)", must(c.Expire(ctx, "h", 1500*time.Millisecond)).get(t), true)

	for i := 0; i < 25; i++ {
		noErr(t, c.Set(ctx, fmt.Sprintf("user:%d", i), i, 0))
	}
	check(t, "Keys", sorted(must(c.Keys(ctx, "user:2*")).get(t)), []string{"user:2", "user:20", "user:21", "user:22", "user:23", "user:24"})
	seen := map[string]bool{}
	var cursor uint64
	for {
		keys, next, err := c.Scan(ctx, cursor, "user:*", 7)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			seen[k] = true
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	check(t, "Scan found", len(seen), 25)
}

func TestListQueue(t *testing.T) {
	c := flushedClient(t)
	check(t, "RPush", must(c.RPush(ctx, "jobs", "job1", "job2", "job3")).get(t), int64(3))
	check(t, "LPush", must(c.LPush(ctx, "jobs", "urgent")).get(t), int64(4))
	check(t, "LLen", must(c.LLen(ctx, "jobs")).get(t), int64(4))
	check(t, "LRange", must(c.LRange(ctx, "jobs", 0, -1)).get(t), []string{"urgent", "job1", "job2", "job3"})
	check(t, "LPop", must(c.LPop(ctx, "jobs")).get(t), "urgent")
	check(t, "RPop", must(c.RPop(ctx, "jobs")).get(t), "job3")
	check(t, "LRange", must(c.LRange(ctx, "jobs", 0, -1)).get(t), []string{"job1", "job2"})
	must(c.LPop(ctx, "jobs")).get(t)
	must(c.LPop(ctx, "jobs")).get(t)
	if _, err := c.LPop(ctx, "jobs"); err != client.ErrNil {
		t.Errorf("LPop(empty) error = %v, want ErrNil", err)
	}
}

func TestHashes(t *testing.T) {
	c := flushedClient(t)
	check(t, "HSet pairs", must(c.HSet(ctx, "user:1", "name", "Ada", "age", 36)).get(t), int64(2))
	check(t, "HSet map", must(c.HSet(ctx, "user:1", map[string]interface{}{"email": "ada@example.com", "age": 37})).get(t), int64(1))
	check(t, "HGet", must(c.HGet(ctx, "user:1", "age")).get(t), "37")
	if _, err := c.HGet(ctx, "user:1", "phone"); err != client.ErrNil {
		t.Errorf("HGet(missing) error = %v", err)
	}
	check(t, "HGetAll", must(c.HGetAll(ctx, "user:1")).get(t), map[string]string{"name": "Ada", "age": "37", "email": "ada@example.com"})
	check(t, "HGetAll(missing)", must(c.HGetAll(ctx, "nope")).get(t), map[string]string{})
	check(t, "HDel", must(c.HDel(ctx, "user:1", "email", "phone")).get(t), int64(1))
}

func TestSets(t *testing.T) {
	c := flushedClient(t)
	check(t, "SAdd", must(c.SAdd(ctx, "tags", "go", "db", "go")).get(t), int64(2))
	check(t, "SMembers", sorted(must(c.SMembers(ctx, "tags")).get(t)), []string{"db", "go"})
	check(t, "SIsMember(yes)", must(c.SIsMember(ctx, "tags", "go")).get(t), true)
	check(t, "SIsMember(no)", must(c.SIsMember(ctx, "tags", "java")).get(t), false)
	check(t, "SRem", must(c.SRem(ctx, "tags", "go", "java")).get(t), int64(1))
	check(t, "SMembers", must(c.SMembers(ctx, "tags")).get(t), []string{"db"})
}

func TestLeaderboard(t *testing.T) {
	c := flushedClient(t)
	added := must(c.ZAdd(ctx, "board", client.Z{Score: 100, Member: "alice"}, client.Z{Score: 80, Member: "bob"}, client.Z{Score: 120.5, Member: "carol"})).get(t)
	check(t, "ZAdd", added, int64(3))
	check(t, "ZIncrBy", must(c.ZIncrBy(ctx, "board", 50, "bob")).get(t), 130.0)
	check(t, "ZScore", must(c.ZScore(ctx, "board", "carol")).get(t), 120.5)
	if _, err := c.ZScore(ctx, "board", "nobody"); err != client.ErrNil {
		t.Errorf("ZScore(missing) error = %v", err)
	}
	check(t, "ZRange", must(c.ZRange(ctx, "board", 0, -1)).get(t), []string{"alice", "carol", "bob"})
	check(t, "ZRangeWithScores", must(c.ZRangeWithScores(ctx, "board", -2, -1)).get(t),
		[]client.Z{{Score: 120.5, Member: "carol"}, {Score: 130, Member: "bob"}})
	check(t, "ZRem", must(c.ZRem(ctx, "board", "alice", "nobody")).get(t), int64(1))
	check(t, "ZRange after ZRem", must(c.ZRange(ctx, "board", 0, -1)).get(t), []string{"carol", "bob"})
}

func TestJSONProfile(t *testing.T) {
	c := flushedClient(t)
	requireCommand(t, c, "JSON.GET", "diskdb-capability-probe")
	type profile struct {
		Name string   `json:"name"`
		Age  int      `json:"age"`
		Tags []string `json:"tags"`
	}
	noErr(t, c.JSONSet(ctx, "user:1", "$", profile{Name: "Ada", Age: 36, Tags: []string{"math"}}))
	var got profile
	noErr(t, json.Unmarshal([]byte(must(c.JSONGet(ctx, "user:1")).get(t)), &got))
	check(t, "JSONGet", got, profile{Name: "Ada", Age: 36, Tags: []string{"math"}})
	noErr(t, c.JSONSet(ctx, "user:1", "$.age", 37))
	check(t, "JSONGet $.age", must(c.JSONGet(ctx, "user:1", "$.age")).get(t), "[37]")
	noErr(t, c.JSONSet(ctx, "raw", "$", json.RawMessage(`{"a":[1,2]}`)))
	check(t, "JSONGet raw", must(c.JSONGet(ctx, "raw", "$.a")).get(t), "[[1,2]]")
	if _, err := c.JSONGet(ctx, "missing"); err != client.ErrNil {
		t.Errorf("JSONGet(missing) error = %v", err)
	}
}

func TestStreamEvents(t *testing.T) {
	c := flushedClient(t)
	requireCommand(t, c, "XADD", "diskdb-capability-probe", "NOMKSTREAM", "*", "f", "v")
	id1 := must(c.XAdd(ctx, &client.XAddArgs{Stream: "events", Values: map[string]interface{}{"type": "signup", "user": "ada"}})).get(t)
	id2 := must(c.XAdd(ctx, &client.XAddArgs{Stream: "events", Values: []interface{}{"type", "login"}})).get(t)
	check(t, "XAdd explicit ID", must(c.XAdd(ctx, &client.XAddArgs{Stream: "events", ID: "99999999999999-0", Values: []string{"type", "x"}})).get(t), "99999999999999-0")
	check(t, "XLen", must(c.XLen(ctx, "events")).get(t), int64(3))
	check(t, "XRange", must(c.XRange(ctx, "events", "-", id2)).get(t), []client.XMessage{
		{ID: id1, Values: map[string]interface{}{"type": "signup", "user": "ada"}},
		{ID: id2, Values: map[string]interface{}{"type": "login"}},
	})
	must(c.XAdd(ctx, &client.XAddArgs{Stream: "events", MaxLen: 2, Values: []string{"type", "trim"}})).get(t)
	check(t, "XLen after MAXLEN", must(c.XLen(ctx, "events")).get(t), int64(2))
}

func TestErrors(t *testing.T) {
	c := flushedClient(t)
	noErr(t, c.Set(ctx, "name", "value", 0))
	_, err := c.LPush(ctx, "name", "x")
	if !errors.Is(err, client.ErrWrongType) {
		t.Fatalf("LPush on a string: error = %v, want ErrWrongType", err)
	}
	var e *client.RedisError
	if !errors.As(err, &e) || !e.IsWrongType() || e.Code() != "WRONGTYPE" || !strings.HasPrefix(e.Message, "WRONGTYPE ") {
		t.Errorf("error = %#v, want a *client.RedisError with code WRONGTYPE", err)
	}
	_, err = c.Incr(ctx, "name")
	if !errors.As(err, &e) || e.IsWrongType() || errors.Is(err, client.ErrWrongType) || !strings.Contains(e.Message, "not an integer") {
		t.Errorf("Incr on text: error = %v", err)
	}
	_, err = c.Do(ctx, "NOSUCHCOMMAND")
	if !errors.As(err, &e) || !strings.HasPrefix(e.Message, "ERR unknown command") {
		t.Errorf("unknown command: error = %v", err)
	}
	if _, err := c.Do(ctx, "SET", "k", struct{}{}); err == nil {
		t.Error("unencodable argument: want an error")
	}
	check(t, "Get after errors", must(c.Get(ctx, "name")).get(t), "value")
}

// countingConn counts the Write calls made on a connection.
type countingConn struct {
	net.Conn
	writes *int64
}

func (c countingConn) Write(p []byte) (int, error) {
	atomic.AddInt64(c.writes, 1)
	return c.Conn.Write(p)
}

func TestPipelineIsOneWrite(t *testing.T) {
	var writes int64
	c := flushedClient(t, client.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		return countingConn{Conn: nc, writes: &writes}, err
	}))
	p := c.Pipeline()
	p.Queue("SET", "a", "1")
	p.Queue("INCR", "a")
	p.Queue("GET", "a")
	p.Queue("GET", "missing")
	p.Queue("LPUSH", "a", "x")
	for i := 0; i < 500; i++ {
		p.Queue("RPUSH", "numbers", i)
	}
	before := atomic.LoadInt64(&writes)
	results, err := p.Exec(ctx)
	if !errors.Is(err, client.ErrWrongType) {
		t.Errorf("Exec error = %v, want the WRONGTYPE of LPUSH", err)
	}
	check(t, "writes", atomic.LoadInt64(&writes)-before, int64(1))
	check(t, "results", len(results), 505)
	check(t, "SET", must(results[0].Text()).get(t), "OK")
	check(t, "INCR", must(results[1].Int64()).get(t), int64(2))
	check(t, "GET", must(results[2].Text()).get(t), "2")
	check(t, "GET missing", results[3].Err, client.ErrNil)
	check(t, "LPUSH error", errors.Is(results[4].Err, client.ErrWrongType), true)
	check(t, "last RPUSH", must(results[504].Int64()).get(t), int64(500))
	check(t, "queue emptied", p.Len(), 0)
}

func TestTxPipeline(t *testing.T) {
	c := flushedClient(t)
	requireCommand(t, c, "DISCARD")
	tx := c.TxPipeline()
	tx.Queue("SET", "balance", 100)
	tx.Queue("DECRBY", "balance", 30)
	tx.Queue("INCRBY", "spent", 30)
	results := must(tx.Exec(ctx)).get(t)
	check(t, "DECRBY", must(results[1].Int64()).get(t), int64(70))
	check(t, "INCRBY", must(results[2].Int64()).get(t), int64(30))

	tx.Queue("INCR", "balance")
	tx.Queue("NOSUCHCOMMAND")
	var e *client.RedisError
	if _, err := tx.Exec(ctx); !errors.As(err, &e) || !strings.Contains(e.Message, "unknown command") {
		t.Errorf("aborted transaction: error = %v", err)
	}
	check(t, "balance unchanged", must(c.Get(ctx, "balance")).get(t), "70")
}

func TestConcurrentUse(t *testing.T) {
	var dials int64
	c := flushedClient(t, client.WithPoolSize(4), client.WithDialer(func(ctx context.Context, network, addr string) (net.Conn, error) {
		atomic.AddInt64(&dials, 1)
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}))
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				if _, err := c.Incr(ctx, "counter"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	check(t, "counter", must(c.Get(ctx, "counter")).get(t), "800")
	if n := atomic.LoadInt64(&dials); n < 1 || n > 4 {
		t.Errorf("%d connections dialed, want 1 to 4 (PoolSize)", n)
	}
}

func TestRESP3(t *testing.T) {
	c := flushedClient(t, client.WithProtocol(3))
	check(t, "CLIENT INFO has resp=3", strings.Contains(must(client.String(c.Do(ctx, "CLIENT", "INFO"))).get(t), "resp=3"), true)
	must(c.HSet(ctx, "h", "f", "v", "n", "1")).get(t)
	check(t, "HGetAll", must(c.HGetAll(ctx, "h")).get(t), map[string]string{"f": "v", "n": "1"})
	raw := must(c.Do(ctx, "HGETALL", "h")).get(t)
	if _, ok := raw.(map[string]interface{}); !ok {
		t.Errorf("raw RESP3 HGETALL is %T, want a map", raw)
	}
	must(c.ZAdd(ctx, "z", client.Z{Score: 1.5, Member: "a"}, client.Z{Score: 2, Member: "b"})).get(t)
	check(t, "ZScore", must(c.ZScore(ctx, "z", "a")).get(t), 1.5)
	check(t, "ZRangeWithScores", must(c.ZRangeWithScores(ctx, "z", 0, -1)).get(t), []client.Z{{Score: 1.5, Member: "a"}, {Score: 2, Member: "b"}})
	check(t, "SIsMember", must(c.SIsMember(ctx, "s", "x")).get(t), false)
	if _, err := c.Get(ctx, "missing"); err != client.ErrNil {
		t.Errorf("Get(missing) error = %v", err)
	}
	check(t, "Info", strings.Contains(must(c.Info(ctx, "server")).get(t), "redis_version:"), true)
}

func TestReconnectAfterClientKill(t *testing.T) {
	victim := flushedClient(t, client.WithDB(2), client.WithPoolSize(1))
	admin := newClient(t)
	noErr(t, victim.Set(ctx, "survivor", "yes", 0))
	id := must(client.Int64(victim.Do(ctx, "CLIENT", "ID"))).get(t)
	check(t, "CLIENT KILL", must(client.Int64(admin.Do(ctx, "CLIENT", "KILL", "ID", id))).get(t), int64(1))
	// The pooled connection is dead; the next call reconnects and re-selects DB 2.
	check(t, "Get after kill", must(victim.Get(ctx, "survivor")).get(t), "yes")
	if newID := must(client.Int64(victim.Do(ctx, "CLIENT", "ID"))).get(t); newID == id {
		t.Error("expected a new connection")
	}
	if _, err := admin.Get(ctx, "survivor"); err != client.ErrNil {
		t.Errorf("admin (DB 0) sees survivor: %v", err)
	}
}

func TestContextCancellation(t *testing.T) {
	c := flushedClient(t, client.WithPoolSize(1), client.WithReadTimeout(0))
	short, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Do(short, "BLPOP", "empty-list", 0)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("BLPOP with a deadline: error = %v, want DeadlineExceeded", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("the deadline did not interrupt the call")
	}
	if err := c.Ping(ctx); err != nil { // the interrupted connection was replaced
		t.Errorf("Ping after cancellation: %v", err)
	}
	// Cancelling a context after its call must not disturb the next call on
	// the same pooled connection.
	for i := 0; i < 200; i++ {
		cctx, cancel := context.WithCancel(ctx)
		err := c.Ping(cctx)
		cancel()
		if err == nil {
			err = c.Ping(ctx)
		}
		if err != nil {
			t.Fatalf("call %d after a cancelled context: %v", i, err)
		}
	}
}

func TestSessionAndRateLimiter(t *testing.T) {
	c := flushedClient(t)
	must(c.HSet(ctx, "session:abc", "user", "42")).get(t)
	check(t, "Expire", must(c.Expire(ctx, "session:abc", 30*time.Minute)).get(t), true)
	if ttl := must(c.TTL(ctx, "session:abc")).get(t); ttl < 29*time.Minute {
		t.Errorf("session TTL = %v", ttl)
	}
	noErr(t, c.Set(ctx, "token", "t", 100*time.Millisecond))
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := c.Get(ctx, "token"); err == client.ErrNil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := c.Get(ctx, "token"); err != client.ErrNil {
		t.Errorf("token did not expire: %v", err)
	}

	allow := func(user string) bool {
		key := "rate:" + user
		n := must(c.Incr(ctx, key)).get(t)
		if n == 1 {
			must(c.Expire(ctx, key, time.Minute)).get(t)
		}
		return n <= 3
	}
	var got []bool
	for i := 0; i < 5; i++ {
		got = append(got, allow("alice"))
	}
	check(t, "rate limiter", got, []bool{true, true, true, false, false})
	if ttl := must(c.TTL(ctx, "rate:alice")).get(t); ttl <= 0 {
		t.Errorf("rate window TTL = %v", ttl)
	}
}

func TestPingInfoDoAndClose(t *testing.T) {
	c := newClient(t)
	noErr(t, c.Ping(ctx))
	info := must(c.Info(ctx)).get(t)
	if !strings.Contains(info, "redis_version:") {
		t.Errorf("Info lacks redis_version: %.200s", info)
	}
	check(t, "Do ECHO", must(c.Do(ctx, "ECHO", "hi")).get(t), "hi")
	check(t, "Do DBSIZE type", reflect.TypeOf(must(c.Do(ctx, "DBSIZE")).get(t)).Kind(), reflect.Int64)
	c.Close()
	if err := c.Ping(ctx); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Ping after Close: %v, want ErrClosed", err)
	}
}

func TestConnectionRefused(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	if c, err := client.Connect(addr, client.WithDialTimeout(time.Second)); err == nil {
		c.Close()
		t.Error("Connect to a closed port: want an error")
	}
	c := client.New(client.Options{Addr: addr, DialTimeout: time.Second}) // lazy: fails on first use
	defer c.Close()
	if err := c.Ping(ctx); err == nil {
		t.Error("Ping to a closed port: want an error")
	}
}

func TestConnectOptions(t *testing.T) {
	newClient(t) // starts the server
	addr := server.addr
	c, err := client.Connect(addr, client.WithDB(3), client.WithPoolSize(2), client.WithTimeout(5*time.Second), client.WithProtocol(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	noErr(t, c.FlushDB(ctx))
	noErr(t, c.Set(ctx, "where", "db3", 0))
	db0 := newClient(t)
	if _, err := db0.Get(ctx, "where"); err != client.ErrNil {
		t.Errorf("db 0 sees a key set in db 3: %v", err)
	}
	check(t, "Get in db 3", must(c.Get(ctx, "where")).get(t), "db3")

	// A database the server does not have, or a password it does not expect,
	// makes Connect fail with the server's error.
	var e *client.RedisError
	if _, err := client.Connect(addr, client.WithDB(1000)); !errors.As(err, &e) {
		t.Errorf("Connect(WithDB(1000)) error = %v, want a *RedisError", err)
	}
	if _, err := client.Connect(addr, client.WithPassword("not-configured")); !errors.As(err, &e) {
		t.Errorf("Connect(WithPassword) to a server without a password: error = %v, want a *RedisError", err)
	}
	if _, err := client.Connect(addr, client.WithProtocol(4)); err == nil {
		t.Error("Connect(WithProtocol(4)): want an error")
	}
	// A cancelled context stops Connect.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := client.ConnectContext(cancelled, addr); !errors.Is(err, context.Canceled) {
		t.Errorf("ConnectContext(cancelled) error = %v", err)
	}
}
