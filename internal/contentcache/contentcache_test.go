package contentcache

import (
	"strings"
	"testing"
)

func upper(s string) (string, bool) { return strings.ToUpper(s), true }

// TestATextIsDerivedOnce: a text met again is not derived again, and a failed derivation is not kept.
func TestATextIsDerivedOnce(t *testing.T) {
	t.Parallel()
	c := New[string](1 << 10)
	calls := 0
	derive := func(s string) (string, bool) { calls++; return upper(s) }
	for range 3 {
		if v, ok := c.Get("abc", derive); !ok || v != "ABC" {
			t.Fatalf("got %q %v", v, ok)
		}
	}
	if calls != 1 || c.Len() != 1 {
		t.Errorf("derived %d times, %d held; want once, one", calls, c.Len())
	}
	if _, ok := c.Get("bad", func(string) (string, bool) { return "", false }); ok || c.Len() != 1 {
		t.Errorf("a failed derivation was kept")
	}
}

// TestTheCacheIsBoundedAndStopsWhenTextsDoNotRecur: past its limit the cache starts again, and a fill
// that served few hits turns it off, after which it derives every time and holds nothing.
func TestTheCacheIsBoundedAndStopsWhenTextsDoNotRecur(t *testing.T) {
	t.Parallel()
	c := New[string](100)
	text := func(i int) string { return strings.Repeat(string(rune('a'+i%26)), 30) + strings.Repeat("x", i) }
	// Recurring texts: each met four times; the cache refills and stays on.
	for i := range 20 {
		for range 4 {
			c.Get(text(i%5), upper)
		}
	}
	if c.Off() || c.Bytes() > 100 {
		t.Fatalf("recurring texts: off %v, %d bytes held of 100", c.Off(), c.Bytes())
	}
	// Texts that never recur: the fill serves no hit, and the cache turns off.
	for i := range 20 {
		c.Get(text(100+i), upper)
	}
	if !c.Off() || c.Len() != 0 {
		t.Errorf("unique texts: off %v, %d held; want off and empty", c.Off(), c.Len())
	}
	if v, ok := c.Get("late", upper); !ok || v != "LATE" {
		t.Errorf("an off cache derived %q %v", v, ok)
	}
}
