package gobackend_test

import (
	"testing"
	"unsafe"

	"github.com/gomlx/compute/dtypes"
	"github.com/gomlx/compute/internal/gobackend"
	"github.com/gomlx/compute/shapes"
)

// TestFinalizeReturnsMemoryToPool (gominitron patch): finalizing a buffer the backend allocated
// hands its memory back to the pool (a later buffer of that size gets it) and leaves the old
// handle dead (a second Finalize is an error); the memory of a buffer shared with the user
// (NewSharedBuffer) is never handed out again.
func TestFinalizeReturnsMemoryToPool(t *testing.T) {
	be := backend.(*gobackend.Backend)
	shape := shapes.Make(dtypes.Float32, 12345)
	data := func(b *gobackend.Buffer) unsafe.Pointer { return unsafe.Pointer(&b.Flat.([]float32)[0]) }

	reused := false
	for range 3 { // sync.Pool may drop an item (a GC between Put and Get): a few tries
		buf, err := be.GetBuffer(shape)
		if err != nil {
			t.Fatal(err)
		}
		p := data(buf)
		if err := buf.Finalize(); err != nil {
			t.Fatal(err)
		}
		if buf.Flat != nil || buf.RawBytes != nil {
			t.Fatal("a finalized handle still points at its memory")
		}
		if err := buf.Finalize(); err == nil {
			t.Fatal("a second Finalize of the same handle succeeded")
		}
		next, err := be.GetBuffer(shape)
		if err != nil {
			t.Fatal(err)
		}
		reused = data(next) == p
		be.PutBuffer(next)
		if reused {
			break
		}
	}
	if !reused {
		t.Error("a finalized buffer's memory was not handed out again")
	}

	shared, flat, err := be.NewSharedBuffer(0, shape)
	if err != nil {
		t.Fatal(err)
	}
	userMemory := unsafe.Pointer(&flat.([]float32)[0])
	if err := shared.(*gobackend.Buffer).Finalize(); err != nil {
		t.Fatal(err)
	}
	for range 100 {
		buf, err := be.GetBuffer(shape)
		if err != nil {
			t.Fatal(err)
		}
		if data(buf) == userMemory {
			t.Fatal("the memory of a buffer shared with the user was handed out again")
		}
		defer be.PutBuffer(buf)
	}
}
