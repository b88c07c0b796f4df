// Package contentcache is a bounded cache of what was derived from texts, by the text, for readers and
// rules that meet the same text many times (the same inputs or user data in every stack of a fleet).
// It holds copies of its keys, never the caller's buffers, and is emptied whenever its keys pass its
// limit in bytes, so that its memory is bounded whatever the input. When a fill of it serves few hits
// (under one in four texts), the texts do not recur, and it stops caching for good: then it costs a
// lookup per text and nothing more. It is safe for concurrent use.
package contentcache

import (
	"strings"
	"sync"
)

// Cache maps texts to what was derived from them.
type Cache[V any] struct {
	limit int

	mu           sync.Mutex
	m            map[string]V
	bytes        int
	hits, misses int
	off          bool
}

// New returns a cache whose keys hold at most limit bytes.
func New[V any](limit int) *Cache[V] {
	return &Cache[V]{limit: limit, m: map[string]V{}}
}

// Get returns what derive derived from text: the cached value when text was derived before, else
// derive's, cached when ok. derive is given a copy of text of its own, even once the cache is off, so
// that what it derives may be made of parts of it whatever becomes of the caller's text.
func (c *Cache[V]) Get(text string, derive func(own string) (V, bool)) (V, bool) {
	c.mu.Lock()
	if c.off {
		c.mu.Unlock()
		return derive(strings.Clone(text))
	}
	v, hit := c.m[text]
	if hit {
		c.hits++
	} else {
		c.misses++
	}
	c.mu.Unlock()
	if hit {
		return v, true
	}
	own := strings.Clone(text)
	v, ok := derive(own)
	if !ok {
		return v, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.off {
		return v, true
	}
	if c.bytes+len(own) > c.limit {
		if c.hits*4 < c.hits+c.misses {
			c.off, c.m = true, nil
			return v, true
		}
		c.m, c.bytes, c.hits, c.misses = map[string]V{}, 0, 0, 0
	}
	if _, dup := c.m[own]; !dup {
		c.m[own] = v
		c.bytes += len(own)
	}
	return v, true
}

// Len is how many texts the cache holds.
func (c *Cache[V]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

// Bytes is the size of the texts the cache holds.
func (c *Cache[V]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bytes
}

// Off reports whether the cache has stopped caching.
func (c *Cache[V]) Off() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.off
}
