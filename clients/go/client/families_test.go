package client_test

// The typed helpers of each command family, beyond the seed's examples.

import (
	"context"
	"errors"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/transybao1393/diskdb/client"
)

func TestStringHelpers(t *testing.T) {
	c := flushedClient(t)
	check(t, "SetXX(missing)", must(c.SetXX(ctx, "k", "v", 0)).get(t), false)
	noErr(t, c.Set(ctx, "k", "v1", 0))
	check(t, "SetXX", must(c.SetXX(ctx, "k", "v2", time.Minute)).get(t), true)
	check(t, "GetSet", must(c.GetSet(ctx, "k", "v3")).get(t), "v2")
	if _, err := c.GetSet(ctx, "fresh", "x"); err != client.ErrNil {
		t.Errorf("GetSet(new key) error = %v, want ErrNil", err)
	}
	check(t, "GetEx(EX)", must(c.GetEx(ctx, "k", time.Minute)).get(t), "v3")
	if ttl := must(c.TTL(ctx, "k")).get(t); ttl <= 0 {
		t.Errorf("TTL after GetEx = %v", ttl)
	}
	check(t, "GetEx(PERSIST)", must(c.GetEx(ctx, "k", 0)).get(t), "v3")
	check(t, "TTL after GetEx(0)", must(c.TTL(ctx, "k")).get(t), time.Duration(-1))
	check(t, "GetDel", must(c.GetDel(ctx, "k")).get(t), "v3")
	if _, err := c.GetDel(ctx, "k"); err != client.ErrNil {
		t.Errorf("GetDel(missing) error = %v", err)
	}
	check(t, "MSetNX", must(c.MSetNX(ctx, "a", "1", "b", "2")).get(t), true)
	check(t, "MSetNX(existing)", must(c.MSetNX(ctx, map[string]string{"b": "x", "c": "3"})).get(t), false)
	check(t, "DecrBy", must(c.DecrBy(ctx, "a", 5)).get(t), int64(-4))
	check(t, "IncrByFloat", must(c.IncrByFloat(ctx, "price", 10.5)).get(t), 10.5)
	check(t, "IncrByFloat", must(c.IncrByFloat(ctx, "price", -0.25)).get(t), 10.25)
	check(t, "Append", must(c.Append(ctx, "s", "Hello")).get(t), int64(5))
	check(t, "Append", must(c.Append(ctx, "s", " World")).get(t), int64(11))
	check(t, "StrLen", must(c.StrLen(ctx, "s")).get(t), int64(11))
	check(t, "GetRange", must(c.GetRange(ctx, "s", -5, -1)).get(t), "World")
	check(t, "SetRange", must(c.SetRange(ctx, "s", 6, "Redis")).get(t), int64(11))
	check(t, "Get", must(c.Get(ctx, "s")).get(t), "Hello Redis")
	check(t, "SetBit", must(c.SetBit(ctx, "bits", 7, 1)).get(t), int64(0))
	check(t, "GetBit", must(c.GetBit(ctx, "bits", 7)).get(t), int64(1))
	noErr(t, c.Set(ctx, "foobar", "foobar", 0))
	check(t, "BitCount", must(c.BitCount(ctx, "foobar")).get(t), int64(26))
}

func TestKeyAndServerHelpers(t *testing.T) {
	c := flushedClient(t)
	noErr(t, c.MSet(ctx, "a", "1", "b", "2", "c", "3"))
	check(t, "DBSize", must(c.DBSize(ctx)).get(t), int64(3))
	check(t, "Touch", must(c.Touch(ctx, "a", "b", "nope")).get(t), int64(2))
	check(t, "Unlink", must(c.Unlink(ctx, "c", "nope")).get(t), int64(1))
	noErr(t, c.Rename(ctx, "a", "a2"))
	check(t, "RenameNX(taken)", must(c.RenameNX(ctx, "a2", "b")).get(t), false)
	check(t, "RenameNX", must(c.RenameNX(ctx, "a2", "a3")).get(t), true)
	check(t, "Copy(taken)", must(c.Copy(ctx, "a3", "b", false)).get(t), false)
	check(t, "Copy(replace)", must(c.Copy(ctx, "a3", "b", true)).get(t), true)
	check(t, "Get(copy)", must(c.Get(ctx, "b")).get(t), "1")
	check(t, "ExpireAt", must(c.ExpireAt(ctx, "b", time.Now().Add(time.Hour))).get(t), true)
	if pttl := must(c.PTTL(ctx, "b")).get(t); pttl <= 59*time.Minute || pttl > time.Hour {
		t.Errorf("PTTL = %v", pttl)
	}
	check(t, "Persist", must(c.Persist(ctx, "b")).get(t), true)
	check(t, "Persist again", must(c.Persist(ctx, "b")).get(t), false)
	check(t, "PTTL(missing)", must(c.PTTL(ctx, "nope")).get(t), time.Duration(-2))
	if k := must(c.RandomKey(ctx)).get(t); k != "a3" && k != "b" {
		t.Errorf("RandomKey = %q", k)
	}
	check(t, "Echo", must(c.Echo(ctx, "hi")).get(t), "hi")
	if now := must(c.Time(ctx)).get(t); now.Sub(time.Now()).Abs() > time.Minute {
		t.Errorf("Time = %v", now)
	}
	check(t, "ConfigGet", must(c.ConfigGet(ctx, "maxclients")).get(t)["maxclients"] != "", true)
	old := must(c.ConfigGet(ctx, "timeout")).get(t)["timeout"]
	noErr(t, c.ConfigSet(ctx, "timeout", 300))
	check(t, "ConfigGet(timeout)", must(c.ConfigGet(ctx, "timeout")).get(t), map[string]string{"timeout": "300"})
	noErr(t, c.ConfigSet(ctx, "timeout", old))
	noErr(t, c.FlushDB(ctx))
	if _, err := c.RandomKey(ctx); err != client.ErrNil {
		t.Errorf("RandomKey(empty) error = %v", err)
	}
	noErr(t, c.FlushAll(ctx))
}

func TestListHelpers(t *testing.T) {
	c := flushedClient(t)
	check(t, "RPushX(missing)", must(c.RPushX(ctx, "l", "x")).get(t), int64(0))
	must(c.RPush(ctx, "l", "a", "b", "c", "b", "d")).get(t)
	check(t, "LPushX", must(c.LPushX(ctx, "l", "z")).get(t), int64(6))
	check(t, "LIndex", must(c.LIndex(ctx, "l", -1)).get(t), "d")
	if _, err := c.LIndex(ctx, "l", 99); err != client.ErrNil {
		t.Errorf("LIndex(out of range) error = %v", err)
	}
	noErr(t, c.LSet(ctx, "l", 0, "A"))
	check(t, "LInsertBefore", must(c.LInsertBefore(ctx, "l", "c", "before-c")).get(t), int64(7))
	check(t, "LInsertAfter(no pivot)", must(c.LInsertAfter(ctx, "l", "nope", "x")).get(t), int64(-1))
	check(t, "LPos", must(c.LPos(ctx, "l", "before-c")).get(t), int64(3))
	if _, err := c.LPos(ctx, "l", "nope"); err != client.ErrNil {
		t.Errorf("LPos(missing) error = %v", err)
	}
	check(t, "LRem", must(c.LRem(ctx, "l", 0, "b")).get(t), int64(2))
	check(t, "LRange", must(c.LRange(ctx, "l", 0, -1)).get(t), []string{"A", "a", "before-c", "c", "d"})
	noErr(t, c.LTrim(ctx, "l", 1, -1))
	check(t, "LPopCount", must(c.LPopCount(ctx, "l", 2)).get(t), []string{"a", "before-c"})
	check(t, "RPopCount", must(c.RPopCount(ctx, "l", 5)).get(t), []string{"d", "c"})
	if _, err := c.RPopCount(ctx, "l", 1); err != client.ErrNil {
		t.Errorf("RPopCount(empty) error = %v", err)
	}
	must(c.RPush(ctx, "src", "1", "2")).get(t)
	check(t, "LMove", must(c.LMove(ctx, "src", "dst", "LEFT", "RIGHT")).get(t), "1")
	check(t, "BLMove", must(c.BLMove(ctx, "src", "dst", "LEFT", "RIGHT", time.Second)).get(t), "2")
	check(t, "dst", must(c.LRange(ctx, "dst", 0, -1)).get(t), []string{"1", "2"})
	if _, err := c.BLMove(ctx, "src", "dst", "LEFT", "RIGHT", 50*time.Millisecond); err != client.ErrNil {
		t.Errorf("BLMove timeout error = %v, want ErrNil", err)
	}
}

// A task queue: producers LPUSH tasks, workers block on BRPOP; the reliable
// variant moves each task to a processing list with BRPOPLPUSH and removes
// it once done, so a crashed worker's task can be found again.
func TestTaskQueue(t *testing.T) {
	producer := flushedClient(t)
	worker := newClient(t, client.WithPoolSize(2))

	type done struct {
		task string
		err  error
	}
	results := make(chan done, 3)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // a worker waiting for tasks before any is queued
		defer wg.Done()
		for {
			kv, err := worker.BRPop(ctx, 500*time.Millisecond, "tasks")
			if err == client.ErrNil { // the queue stayed empty: stop
				return
			}
			if err != nil {
				results <- done{err: err}
				return
			}
			results <- done{task: kv[0] + "/" + kv[1]}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	for _, task := range []string{"resize:1", "resize:2", "email:7"} {
		must(producer.LPush(ctx, "tasks", task)).get(t)
	}
	var got []string
	for i := 0; i < 3; i++ {
		select {
		case r := <-results:
			noErr(t, r.err)
			got = append(got, r.task)
		case <-time.After(10 * time.Second):
			t.Fatal("worker did not receive the tasks")
		}
	}
	check(t, "tasks in FIFO order", got, []string{"tasks/resize:1", "tasks/resize:2", "tasks/email:7"})
	wg.Wait()

	// Reliable queue.
	must(producer.LPush(ctx, "jobs", "job:1", "job:2")).get(t)
	job := must(worker.BRPopLPush(ctx, "jobs", "jobs:processing", time.Second)).get(t)
	check(t, "BRPopLPush", job, "job:1")
	check(t, "processing", must(producer.LRange(ctx, "jobs:processing", 0, -1)).get(t), []string{"job:1"})
	check(t, "ack", must(worker.LRem(ctx, "jobs:processing", 1, job)).get(t), int64(1))
	check(t, "RPopLPush", must(worker.RPopLPush(ctx, "jobs", "jobs:processing")).get(t), "job:2")
	if _, err := worker.RPopLPush(ctx, "jobs", "jobs:processing"); err != client.ErrNil {
		t.Errorf("RPopLPush(empty) error = %v", err)
	}
	if _, err := worker.BLPop(ctx, 50*time.Millisecond, "jobs"); err != client.ErrNil {
		t.Errorf("BLPop timeout error = %v, want ErrNil", err)
	}
}

func TestBlockingCallsOutliveReadTimeout(t *testing.T) {
	c := flushedClient(t, client.WithReadTimeout(100*time.Millisecond))
	start := time.Now()
	if _, err := c.BLPop(ctx, 400*time.Millisecond, "empty"); err != client.ErrNil {
		t.Fatalf("BLPop error = %v, want ErrNil after the server-side timeout", err)
	}
	if waited := time.Since(start); waited < 350*time.Millisecond {
		t.Errorf("BLPop returned after %v", waited)
	}
	noErr(t, c.Ping(ctx))
}

func TestHashHelpers(t *testing.T) {
	c := flushedClient(t)
	must(c.HSet(ctx, "user:1", "name", "Ada", "visits", 0)).get(t)
	check(t, "HSetNX(existing)", must(c.HSetNX(ctx, "user:1", "name", "x")).get(t), false)
	check(t, "HSetNX", must(c.HSetNX(ctx, "user:1", "email", "ada@example.com")).get(t), true)
	check(t, "HMGet", must(c.HMGet(ctx, "user:1", "name", "phone", "email")).get(t), []interface{}{"Ada", nil, "ada@example.com"})
	check(t, "HExists", must(c.HExists(ctx, "user:1", "email")).get(t), true)
	check(t, "HExists(no)", must(c.HExists(ctx, "user:1", "phone")).get(t), false)
	check(t, "HLen", must(c.HLen(ctx, "user:1")).get(t), int64(3))
	check(t, "HKeys", sorted(must(c.HKeys(ctx, "user:1")).get(t)), []string{"email", "name", "visits"})
	check(t, "HVals", sorted(must(c.HVals(ctx, "user:1")).get(t)), []string{"0", "Ada", "ada@example.com"})
	check(t, "HIncrBy", must(c.HIncrBy(ctx, "user:1", "visits", 5)).get(t), int64(5))
	check(t, "HIncrByFloat", must(c.HIncrByFloat(ctx, "user:1", "balance", 2.5)).get(t), 2.5)
	check(t, "HStrLen", must(c.HStrLen(ctx, "user:1", "name")).get(t), int64(3))
}

func TestSetHelpers(t *testing.T) {
	c := flushedClient(t)
	must(c.SAdd(ctx, "a", "x", "y", "z")).get(t)
	must(c.SAdd(ctx, "b", "y", "z", "w")).get(t)
	check(t, "SCard", must(c.SCard(ctx, "a")).get(t), int64(3))
	check(t, "SMIsMember", must(c.SMIsMember(ctx, "a", "x", "w")).get(t), []bool{true, false})
	check(t, "SInter", sorted(must(c.SInter(ctx, "a", "b")).get(t)), []string{"y", "z"})
	check(t, "SUnion", sorted(must(c.SUnion(ctx, "a", "b")).get(t)), []string{"w", "x", "y", "z"})
	check(t, "SDiff", must(c.SDiff(ctx, "a", "b")).get(t), []string{"x"})
	check(t, "SInterStore", must(c.SInterStore(ctx, "i", "a", "b")).get(t), int64(2))
	check(t, "SUnionStore", must(c.SUnionStore(ctx, "u", "a", "b")).get(t), int64(4))
	check(t, "SDiffStore", must(c.SDiffStore(ctx, "d", "a", "b")).get(t), int64(1))
	check(t, "SMove", must(c.SMove(ctx, "a", "b", "x")).get(t), true)
	check(t, "SMove(absent)", must(c.SMove(ctx, "a", "b", "x")).get(t), false)
	if m := must(c.SRandMember(ctx, "a")).get(t); m != "y" && m != "z" {
		t.Errorf("SRandMember = %q", m)
	}
	check(t, "SRandMemberN", sorted(must(c.SRandMemberN(ctx, "a", 5)).get(t)), []string{"y", "z"})
	popped := must(c.SPop(ctx, "a")).get(t)
	rest := must(c.SPopN(ctx, "a", 5)).get(t)
	check(t, "SPop + SPopN", sorted(append(rest, popped)), []string{"y", "z"})
	if _, err := c.SPop(ctx, "a"); err != client.ErrNil {
		t.Errorf("SPop(empty) error = %v", err)
	}
}

func TestSortedSetHelpers(t *testing.T) {
	c := flushedClient(t)
	must(c.ZAdd(ctx, "board", client.Z{Score: 100, Member: "alice"}, client.Z{Score: 80, Member: "bob"}, client.Z{Score: 120, Member: "carol"})).get(t)
	check(t, "ZAddNX", must(c.ZAddNX(ctx, "board", client.Z{Score: 1, Member: "alice"}, client.Z{Score: 90, Member: "dave"})).get(t), int64(1))
	check(t, "ZScore after NX", must(c.ZScore(ctx, "board", "alice")).get(t), 100.0)
	check(t, "ZAddXX", must(c.ZAddXX(ctx, "board", client.Z{Score: 130, Member: "bob"}, client.Z{Score: 1, Member: "erin"})).get(t), int64(1))
	check(t, "ZCard", must(c.ZCard(ctx, "board")).get(t), int64(4))
	check(t, "ZCount", must(c.ZCount(ctx, "board", "(90", "+inf")).get(t), int64(3))
	check(t, "ZRank", must(c.ZRank(ctx, "board", "dave")).get(t), int64(0))
	check(t, "ZRevRank", must(c.ZRevRank(ctx, "board", "dave")).get(t), int64(3))
	if _, err := c.ZRank(ctx, "board", "nobody"); err != client.ErrNil {
		t.Errorf("ZRank(missing) error = %v", err)
	}
	check(t, "ZRevRange", must(c.ZRevRange(ctx, "board", 0, 1)).get(t), []string{"bob", "carol"})
	check(t, "ZRevRangeWithScores", must(c.ZRevRangeWithScores(ctx, "board", 0, 0)).get(t), []client.Z{{Score: 130, Member: "bob"}})
	check(t, "ZRangeByScore", must(c.ZRangeByScore(ctx, "board", "95", "125")).get(t), []string{"alice", "carol"})
	check(t, "ZRangeByScoreWithScores", must(c.ZRangeByScoreWithScores(ctx, "board", "-inf", "(100")).get(t), []client.Z{{Score: 90, Member: "dave"}})
	check(t, "ZRevRangeByScore", must(c.ZRevRangeByScore(ctx, "board", "+inf", "100")).get(t), []string{"bob", "carol", "alice"})
	check(t, "ZPopMin", must(c.ZPopMin(ctx, "board", 1)).get(t), []client.Z{{Score: 90, Member: "dave"}})
	check(t, "ZPopMax", must(c.ZPopMax(ctx, "board", 2)).get(t), []client.Z{{Score: 130, Member: "bob"}, {Score: 120, Member: "carol"}})
	check(t, "BZPopMin", must(c.BZPopMin(ctx, time.Second, "empty", "board")).get(t), client.ZWithKey{Z: client.Z{Score: 100, Member: "alice"}, Key: "board"})
	if _, err := c.BZPopMax(ctx, 50*time.Millisecond, "board"); err != client.ErrNil {
		t.Errorf("BZPopMax timeout error = %v, want ErrNil", err)
	}
	must(c.ZAdd(ctx, "a", client.Z{Score: 1, Member: "x"}, client.Z{Score: 2, Member: "y"}, client.Z{Score: 3, Member: "z"})).get(t)
	must(c.ZAdd(ctx, "b", client.Z{Score: 10, Member: "y"})).get(t)
	check(t, "ZUnionStore", must(c.ZUnionStore(ctx, "u", "a", "b")).get(t), int64(3))
	check(t, "ZScore(union)", must(c.ZScore(ctx, "u", "y")).get(t), 12.0)
	check(t, "ZInterStore", must(c.ZInterStore(ctx, "i", "a", "b")).get(t), int64(1))
	check(t, "ZRemRangeByRank", must(c.ZRemRangeByRank(ctx, "a", 0, 0)).get(t), int64(1))
	check(t, "ZRemRangeByScore", must(c.ZRemRangeByScore(ctx, "a", "2", "2")).get(t), int64(1))
	check(t, "ZRange", must(c.ZRange(ctx, "a", 0, -1)).get(t), []string{"z"})
}

func TestJSONHelpers(t *testing.T) {
	c := flushedClient(t)
	requireCommand(t, c, "JSON.GET", "diskdb-capability-probe")
	type address struct {
		City    string `json:"city"`
		Country string `json:"country"`
	}
	type profile struct {
		Name      string   `json:"name"`
		Age       int      `json:"age"`
		Interests []string `json:"interests"`
		Address   address  `json:"address"`
	}
	ada := profile{Name: "Ada", Age: 36, Interests: []string{"math", "engines"}, Address: address{City: "London", Country: "UK"}}
	noErr(t, c.JSONSet(ctx, "user:1", "$", ada))
	var back profile
	noErr(t, c.JSONGetInto(ctx, "user:1", "", &back))
	check(t, "JSONGetInto(document)", back, ada)
	var cities []string
	noErr(t, c.JSONGetInto(ctx, "user:1", "$.address.city", &cities))
	check(t, "JSONGetInto($.address.city)", cities, []string{"London"})
	var city string
	noErr(t, c.JSONGetInto(ctx, "user:1", ".address.city", &city))
	check(t, "JSONGetInto(.address.city)", city, "London")
	check(t, "JSONGet($.interests)", must(c.JSONGet(ctx, "user:1", "$.interests")).get(t), `[["math","engines"]]`)
	check(t, "JSONSetMode NX (exists)", must(c.JSONSetMode(ctx, "user:1", "$.name", "x", "NX")).get(t), false)
	check(t, "JSONSetMode XX", must(c.JSONSetMode(ctx, "user:1", "$.name", "Ada L.", "XX")).get(t), true)
	check(t, "JSONNumIncrBy", must(c.JSONNumIncrBy(ctx, "user:1", "$.age", 1)).get(t), "[37]")
	check(t, "JSONNumIncrBy(legacy)", must(c.JSONNumIncrBy(ctx, "user:1", ".age", 1)).get(t), "38")
	check(t, "JSONType", must(c.JSONType(ctx, "user:1", "$.interests")).get(t), []string{"array"})
	check(t, "JSONType(legacy)", must(c.JSONType(ctx, "user:1", ".age")).get(t), []string{"integer"})
	noErr(t, c.JSONSet(ctx, "user:2", "$", map[string]interface{}{"name": "Grace"}))
	check(t, "JSONMGet", must(c.JSONMGet(ctx, "$.name", "user:1", "missing", "user:2")).get(t), []interface{}{`["Ada L."]`, nil, `["Grace"]`})
	check(t, "JSONDel", must(c.JSONDel(ctx, "user:1", "$.address")).get(t), int64(1))
	check(t, "Type", must(c.Type(ctx, "user:1")).get(t), "ReJSON-RL")
	if err := c.JSONGetInto(ctx, "missing", "$", &cities); err != client.ErrNil {
		t.Errorf("JSONGetInto(missing) error = %v", err)
	}
	if err := c.JSONSet(ctx, "bad", "$", func() {}); err == nil || !strings.Contains(err.Error(), "JSONSet") {
		t.Errorf("JSONSet(unencodable) error = %v", err)
	}
}

func TestStreamHelpers(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		c := flushedClient(t, client.WithProtocol(protocol))
		requireCommand(t, c, "XADD", "diskdb-capability-probe", "NOMKSTREAM", "*", "f", "v")
		if _, err := c.XAdd(ctx, &client.XAddArgs{Stream: "nostream", NoMkStream: true, Values: []string{"f", "v"}}); err != client.ErrNil {
			t.Errorf("XAdd NoMkStream error = %v, want ErrNil", err)
		}
		var ids []string
		for i, user := range []string{"ada", "grace", "alan"} {
			id := must(c.XAdd(ctx, &client.XAddArgs{Stream: "events", ID: "1-" + string(rune('1'+i)), Values: map[string]string{"user": user}})).get(t)
			ids = append(ids, id)
		}
		check(t, "XAdd IDs", ids, []string{"1-1", "1-2", "1-3"})
		check(t, "XRangeN", must(c.XRangeN(ctx, "events", "-", "+", 2)).get(t), []client.XMessage{
			{ID: "1-1", Values: map[string]interface{}{"user": "ada"}},
			{ID: "1-2", Values: map[string]interface{}{"user": "grace"}},
		})
		revs := must(c.XRevRangeN(ctx, "events", "+", "-", 1)).get(t)
		check(t, "XRevRangeN", revs, []client.XMessage{{ID: "1-3", Values: map[string]interface{}{"user": "alan"}}})
		check(t, "XRevRange", len(must(c.XRevRange(ctx, "events", "+", "-")).get(t)), 3)

		must(c.XAdd(ctx, &client.XAddArgs{Stream: "audit", ID: "5-0", Values: []string{"op", "login"}})).get(t)
		streams := must(c.XRead(ctx, &client.XReadArgs{Streams: []string{"events", "audit", "1-2", "0"}})).get(t)
		check(t, "XRead", streams, []client.XStream{
			{Stream: "events", Messages: []client.XMessage{{ID: "1-3", Values: map[string]interface{}{"user": "alan"}}}},
			{Stream: "audit", Messages: []client.XMessage{{ID: "5-0", Values: map[string]interface{}{"op": "login"}}}},
		})
		if _, err := c.XRead(ctx, &client.XReadArgs{Streams: []string{"events", "$"}, Block: 50 * time.Millisecond}); err != client.ErrNil {
			t.Errorf("XRead Block timeout error = %v, want ErrNil", err)
		}
		// A blocked reader is woken by a new entry.
		woke := make(chan []client.XStream, 1)
		go func() {
			s, _ := c.XRead(ctx, &client.XReadArgs{Streams: []string{"audit", "$"}, Block: client.BlockForever})
			woke <- s
		}()
		time.Sleep(100 * time.Millisecond)
		must(newClient(t).XAdd(ctx, &client.XAddArgs{Stream: "audit", ID: "6-0", Values: []string{"op", "logout"}})).get(t)
		select {
		case s := <-woke:
			check(t, "XRead BlockForever", s, []client.XStream{{Stream: "audit", Messages: []client.XMessage{{ID: "6-0", Values: map[string]interface{}{"op": "logout"}}}}})
		case <-time.After(10 * time.Second):
			t.Fatal("XRead BlockForever was not woken")
		}

		noErr(t, c.XGroupCreate(ctx, "events", "mailer", "0"))
		noErr(t, c.XGroupCreateMkStream(ctx, "new-stream", "g", "$"))
		check(t, "Type(new-stream)", must(c.Type(ctx, "new-stream")).get(t), "stream")
		batch := must(c.XReadGroup(ctx, &client.XReadGroupArgs{Group: "mailer", Consumer: "w1", Streams: []string{"events", ">"}, Count: 2})).get(t)
		if len(batch) != 1 || len(batch[0].Messages) != 2 || batch[0].Messages[0].ID != "1-1" {
			t.Errorf("XReadGroup = %#v", batch)
		}
		check(t, "XAck", must(c.XAck(ctx, "events", "mailer", "1-1", "1-2")).get(t), int64(2))
		check(t, "XAck again", must(c.XAck(ctx, "events", "mailer", "1-1")).get(t), int64(0))
		if _, err := c.XReadGroup(ctx, &client.XReadGroupArgs{Group: "mailer", Consumer: "w1", Streams: []string{"events", ">"}, Block: 50 * time.Millisecond, NoAck: true}); err != nil {
			t.Errorf("XReadGroup (one entry left) error = %v", err)
		}
		check(t, "XDel", must(c.XDel(ctx, "events", "1-1", "9-9")).get(t), int64(1))
		check(t, "XTrimMaxLen", must(c.XTrimMaxLen(ctx, "events", 1)).get(t), int64(1))
		check(t, "XTrimMinID", must(c.XTrimMinID(ctx, "audit", "6-0")).get(t), int64(1))
		check(t, "XLen", must(c.XLen(ctx, "events")).get(t), int64(1))
	}
}

func TestPipelineOfHelpersReplies(t *testing.T) {
	c := flushedClient(t)
	p := c.Pipeline()
	p.Queue("HSET", "h", "f", "v")
	p.Queue("HGETALL", "h")
	p.Queue("SADD", "s", "a", "b")
	p.Queue("SMEMBERS", "s")
	p.Queue("INCRBYFLOAT", "f", "1.5")
	results := must(p.Exec(ctx)).get(t)
	check(t, "HGETALL", must(results[1].StringMap()).get(t), map[string]string{"f": "v"})
	members := must(results[3].Strings()).get(t)
	sort.Strings(members)
	check(t, "SMEMBERS", members, []string{"a", "b"})
	check(t, "INCRBYFLOAT", must(results[4].Float64()).get(t), 1.5)
	check(t, "HSET", must(results[0].Int64()).get(t), int64(1))
	var e *client.RedisError
	if _, err := c.Do(context.Background(), "HGET", "s", "x"); !errors.As(err, &e) || !e.IsWrongType() {
		t.Errorf("HGET on a set: %v", err)
	}
}
