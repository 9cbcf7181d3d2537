package client_test

// SORT, BITFIELD, LCS, CLIENT UNBLOCK, WAIT and ROLE.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/transybao1393/diskdb/client"
)

func i64p(v int64) *int64 { return &v }

func TestSortHelpers(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			c := flushedClient(t, client.WithProtocol(protocol))
			requireCommand(t, c, "SORT", "diskdb-capability-probe")
			must(c.RPush(ctx, "nums", "3", "1", "2", "10")).get(t)
			check(t, "Sort", must(c.Sort(ctx, "nums", client.SortOptions{})).get(t), []string{"1", "2", "3", "10"})
			check(t, "Sort DESC LIMIT 1 2", must(c.Sort(ctx, "nums", client.SortOptions{Desc: true, Offset: 1, Count: 2})).get(t), []string{"3", "2"})
			check(t, "Sort LIMIT 1 (all)", must(c.Sort(ctx, "nums", client.SortOptions{Offset: 1})).get(t), []string{"2", "3", "10"})
			check(t, "Sort LIMIT 0 1", must(c.Sort(ctx, "nums", client.SortOptions{Count: 1})).get(t), []string{"1"})
			check(t, "Sort(missing)", must(c.Sort(ctx, "missing", client.SortOptions{})).get(t), []string{})

			must(c.RPush(ctx, "names", "bob", "alice", "carol")).get(t)
			check(t, "Sort ALPHA", must(c.Sort(ctx, "names", client.SortOptions{Alpha: true})).get(t), []string{"alice", "bob", "carol"})
			var e *client.RedisError
			if _, err := c.Sort(ctx, "names", client.SortOptions{}); !errors.As(err, &e) || e.Code() != "ERR" {
				t.Errorf("Sort(words, numeric) error = %v, want an ERR reply", err)
			}
			check(t, "SortRO DESC ALPHA", must(c.SortRO(ctx, "names", client.SortOptions{Desc: true, Alpha: true})).get(t), []string{"carol", "bob", "alice"})
			must(c.SAdd(ctx, "set", "5", "-1", "2.5")).get(t)
			check(t, "Sort(set)", must(c.Sort(ctx, "set", client.SortOptions{})).get(t), []string{"-1", "2.5", "5"})

			// BY and GET with "*" patterns and hash fields.
			noErr(t, c.MSet(ctx, "w_1", "30", "w_2", "10", "w_3", "20", "w_10", "5"))
			check(t, "Sort BY w_*", must(c.Sort(ctx, "nums", client.SortOptions{By: "w_*"})).get(t), []string{"10", "2", "3", "1"})
			check(t, "Sort BY w_* GET # GET w_*", must(c.Sort(ctx, "nums", client.SortOptions{By: "w_*", Get: []string{"#", "w_*"}})).get(t),
				[]string{"10", "5", "2", "10", "3", "20", "1", "30"})
			check(t, "Sort GET missing_*", must(c.Sort(ctx, "nums", client.SortOptions{Get: []string{"missing_*"}, Count: 2})).get(t), []string{"", ""})
			for i, name := range map[int]string{1: "one", 2: "two", 3: "three"} {
				must(c.HSet(ctx, fmt.Sprintf("user_%d", i), "name", name, "age", 20+i)).get(t)
			}
			check(t, "Sort BY nosort GET ->name", must(c.Sort(ctx, "nums", client.SortOptions{By: "nosort", Get: []string{"user_*->name"}})).get(t),
				[]string{"three", "one", "two", ""})
			check(t, "Sort BY ->name ALPHA GET # GET ->name", must(c.Sort(ctx, "nums", client.SortOptions{By: "user_*->name", Alpha: true, Get: []string{"#", "user_*->name"}})).get(t),
				[]string{"10", "", "1", "one", "3", "three", "2", "two"})
			check(t, "Sort BY ->age DESC LIMIT 0 2 GET ->name", must(c.Sort(ctx, "nums", client.SortOptions{By: "user_*->age", Desc: true, Count: 2, Get: []string{"user_*->name"}})).get(t),
				[]string{"three", "two"})

			// STORE.
			check(t, "SortStore DESC", must(c.SortStore(ctx, "nums", "sorted", client.SortOptions{Desc: true})).get(t), int64(4))
			check(t, "LRange(sorted)", must(c.LRange(ctx, "sorted", 0, -1)).get(t), []string{"10", "3", "2", "1"})
			check(t, "SortStore BY GET", must(c.SortStore(ctx, "nums", "sorted", client.SortOptions{By: "w_*", Get: []string{"w_*"}, Offset: 1, Count: 2})).get(t), int64(2))
			check(t, "LRange(sorted) replaced", must(c.LRange(ctx, "sorted", 0, -1)).get(t), []string{"10", "20"})
			check(t, "SortStore(missing)", must(c.SortStore(ctx, "missing", "sorted", client.SortOptions{})).get(t), int64(0))
			check(t, "Exists(sorted) after an empty SortStore", must(c.Exists(ctx, "sorted")).get(t), int64(0))
		})
	}
}

func TestBitFieldHelpers(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			c := flushedClient(t, client.WithProtocol(protocol))
			requireCommand(t, c, "BITFIELD", "diskdb-capability-probe")
			got := must(c.BitField(ctx, "bf",
				client.BitFieldSet("i8", 0, 100),     // old value 0
				client.BitFieldGet("i8", 0),          // 100
				client.BitFieldIncrBy("i8", 0, 100),  // wraps: -56
				client.BitFieldOverflow("SAT"),       //
				client.BitFieldIncrBy("i8", 0, -100), // saturates: -128
				client.BitFieldIncrBy("i8", 0, 10),   // -118
				client.BitFieldOverflow("FAIL"),      //
				client.BitFieldIncrBy("i8", 0, -11),  // would overflow: nil, not done
				client.BitFieldSet("u8", "#1", 255),  // the second byte; old value 0
				client.BitFieldIncrBy("u8", "#1", 1), // would overflow: nil
				client.BitFieldOverflow("WRAP"),      //
				client.BitFieldIncrBy("u8", 8, 2),    // wraps: 1
				client.BitFieldGet("i8", 0),          // -118
				client.BitFieldGet("u4", 0),          // high nibble of 0x8a: 8
			)).get(t)
			check(t, "BitField", got, []*int64{i64p(0), i64p(100), i64p(-56), i64p(-128), i64p(-118), nil, i64p(0), nil, i64p(1), i64p(-118), i64p(8)})
			check(t, "Get(bf)", must(c.Get(ctx, "bf")).get(t), "\x8a\x01")
			check(t, "BitField(no operation)", must(c.BitField(ctx, "bf")).get(t), []*int64{})
			check(t, "BitField(missing key)", must(c.BitField(ctx, "missing", client.BitFieldGet("u16", 0))).get(t), []*int64{i64p(0)})
			check(t, "BitField i64", must(c.BitField(ctx, "big", client.BitFieldSet("i64", 0, -1), client.BitFieldIncrBy("i64", 0, 1))).get(t), []*int64{i64p(0), i64p(0)})

			check(t, "BitFieldRO", must(c.BitFieldRO(ctx, "bf", client.BitFieldGet("i8", 0), client.BitFieldGet("u8", "#1"), client.BitFieldGet("u1", 15))).get(t),
				[]*int64{i64p(-118), i64p(1), i64p(1)})
			var e *client.RedisError
			if _, err := c.BitFieldRO(ctx, "bf", client.BitFieldSet("u8", 0, 1)); !errors.As(err, &e) {
				t.Errorf("BitFieldRO(SET) error = %v, want an error reply", err)
			}
			if _, err := c.BitField(ctx, "bf", client.BitFieldGet("u64", 0)); !errors.As(err, &e) {
				t.Errorf("BitField(u64) error = %v, want an error reply", err)
			}
			check(t, "Get(bf) unchanged", must(c.Get(ctx, "bf")).get(t), "\x8a\x01")
		})
	}
}

func TestLCSHelpers(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			c := flushedClient(t, client.WithProtocol(protocol))
			requireCommand(t, c, "LCS", "diskdb-capability-probe", "diskdb-capability-probe")
			noErr(t, c.MSet(ctx, "key1", "ohmytext", "key2", "mynewtext"))
			check(t, "LCS", must(c.LCS(ctx, "key1", "key2")).get(t), "mytext")
			check(t, "LCSLen", must(c.LCSLen(ctx, "key1", "key2")).get(t), int64(6))
			check(t, "LCSIdx", must(c.LCSIdx(ctx, "key1", "key2", 0)).get(t), client.LCSIdxResult{
				Matches: []client.LCSMatch{
					{Key1: [2]int64{4, 7}, Key2: [2]int64{5, 8}, Len: 4},
					{Key1: [2]int64{2, 3}, Key2: [2]int64{0, 1}, Len: 2},
				},
				Len: 6,
			})
			check(t, "LCSIdx MINMATCHLEN 4", must(c.LCSIdx(ctx, "key1", "key2", 4)).get(t), client.LCSIdxResult{
				Matches: []client.LCSMatch{{Key1: [2]int64{4, 7}, Key2: [2]int64{5, 8}, Len: 4}},
				Len:     6,
			})
			check(t, "LCS(missing)", must(c.LCS(ctx, "key1", "missing")).get(t), "")
			check(t, "LCSLen(missing)", must(c.LCSLen(ctx, "missing", "key2")).get(t), int64(0))
			check(t, "LCSIdx(missing)", must(c.LCSIdx(ctx, "key1", "missing", 0)).get(t), client.LCSIdxResult{Matches: []client.LCSMatch{}})
			must(c.RPush(ctx, "list", "x")).get(t)
			var e *client.RedisError // as in Redis: "ERR The specified keys must contain string values"
			if _, err := c.LCS(ctx, "key1", "list"); !errors.As(err, &e) {
				t.Errorf("LCS(list) error = %v, want an error reply", err)
			}
		})
	}
}

func TestClientUnblock(t *testing.T) {
	c := flushedClient(t)
	requireCommand(t, c, "CLIENT", "UNBLOCK", "0")
	// One connection, so that CLIENT ID names the one BLPop blocks on.
	blocked := newClient(t, client.WithPoolSize(1))
	id := must(client.Int64(blocked.Do(ctx, "CLIENT", "ID"))).get(t)

	for _, withError := range []bool{false, true} {
		done := make(chan error, 1)
		go func() {
			_, err := blocked.BLPop(ctx, 0, "empty-queue")
			done <- err
		}()
		// Unblock as soon as the BLPOP has reached the server.
		deadline := time.Now().Add(10 * time.Second)
		for !must(c.ClientUnblock(ctx, id, withError)).get(t) {
			if time.Now().After(deadline) {
				t.Fatal("ClientUnblock never found the client blocked")
			}
			time.Sleep(10 * time.Millisecond)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("BLPop was not unblocked")
		}
		var e *client.RedisError
		switch {
		case !withError && err != client.ErrNil:
			t.Errorf("BLPop unblocked with TIMEOUT: error = %v, want ErrNil", err)
		case withError && (!errors.As(err, &e) || e.Code() != "UNBLOCKED"):
			t.Errorf("BLPop unblocked with ERROR: error = %v, want an UNBLOCKED error reply", err)
		}
	}
	check(t, "ClientUnblock(not blocked)", must(c.ClientUnblock(ctx, id, false)).get(t), false)
	check(t, "ClientUnblock(unknown id)", must(c.ClientUnblock(ctx, 1<<40, false)).get(t), false)
	check(t, "ClientUnblock(unknown id, ERROR)", must(c.ClientUnblock(ctx, 1<<40, true)).get(t), false)
	noErr(t, blocked.Ping(ctx))
}

func TestWaitAndRole(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			c := flushedClient(t, client.WithProtocol(protocol))
			requireCommand(t, c, "ROLE")
			check(t, "Wait(0, 0)", must(c.Wait(ctx, 0, 0)).get(t), int64(0))
			// No replica: WAIT times out, beyond the client's read timeout.
			short := newClient(t, client.WithProtocol(protocol), client.WithReadTimeout(200*time.Millisecond))
			start := time.Now()
			check(t, "Wait(1, 400ms)", must(short.Wait(ctx, 1, 400)).get(t), int64(0))
			if waited := time.Since(start); waited < 350*time.Millisecond {
				t.Errorf("Wait(1, 400ms) returned after %v", waited)
			}
			role := must(c.Role(ctx)).get(t)
			check(t, "Role.Role", role.Role, "master")
			check(t, "Role.Reply[0]", role.Reply[0], "master")
			check(t, "Role.Replicas", role.Replicas, []client.RoleReplica{})
			if role.Offset < 0 {
				t.Errorf("Role.Offset = %d", role.Offset)
			}
		})
	}
}
