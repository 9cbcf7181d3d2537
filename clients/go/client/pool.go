package client

import (
	"context"
	"sync"
)

// pool is a channel-based connection pool: idle holds connections ready for
// use and slots holds one token per open connection, capping their number.
type pool struct {
	dial  func(context.Context) (*conn, error)
	idle  chan *conn
	slots chan struct{}

	mu     sync.Mutex
	closed bool
}

func newPool(size int, dial func(context.Context) (*conn, error)) *pool {
	return &pool{
		dial:  dial,
		idle:  make(chan *conn, size),
		slots: make(chan struct{}, size),
	}
}

// get returns an idle connection (reused=true) or dials a new one, waiting
// for a free slot or ctx.
func (p *pool) get(ctx context.Context) (cn *conn, reused bool, err error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return nil, false, ErrClosed
	}
	select {
	case cn := <-p.idle:
		return cn, true, nil
	default:
	}
	select {
	case cn := <-p.idle:
		return cn, true, nil
	case p.slots <- struct{}{}:
		cn, err := p.dial(ctx)
		if err != nil {
			<-p.slots
			return nil, false, err
		}
		return cn, false, nil
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
}

// put returns a connection to the pool, or closes it if it is broken or the
// pool is closed.
func (p *pool) put(cn *conn, broken bool) {
	p.mu.Lock()
	if !broken && !p.closed {
		p.idle <- cn // never blocks: at most cap(slots) connections exist
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	cn.close()
	<-p.slots
}

// close closes the idle connections; connections in use are closed when put back.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	var firstErr error
	for {
		select {
		case cn := <-p.idle:
			if err := cn.close(); err != nil && firstErr == nil {
				firstErr = err
			}
			<-p.slots
		default:
			return firstErr
		}
	}
}
