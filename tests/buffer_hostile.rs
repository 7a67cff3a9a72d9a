//! A hostile or damaged buffer directory cannot exhaust memory: files are
//! read in bounded pieces, however long. Measured with a counting global
//! allocator (the only test in this binary, so nothing else allocates
//! meanwhile).

use sockstatlog::buffer::{FileBuffer, FileBufferOptions, LogBuffer};
use std::alloc::{GlobalAlloc, Layout, System};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static CURRENT: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(by: usize) {
    let now = CURRENT.fetch_add(by, Ordering::SeqCst) + by;
    PEAK.fetch_max(now, Ordering::SeqCst);
}

// SAFETY: forwards to the system allocator; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            CURRENT.fetch_sub(layout.size(), Ordering::SeqCst);
            grew(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const GIB: u64 = 1 << 30;

#[test]
fn a_2_gib_garbage_segment_and_consumed_file_cost_less_than_1_mib_of_heap() {
    let dir = tempfile::tempdir().unwrap();
    // Sparse: 2 GiB long, a few bytes of garbage, zeros elsewhere.
    let segment = File::create(dir.path().join("sockstatlog.00000000.seg")).unwrap();
    segment.set_len(2 * GIB).unwrap();
    segment.write_at(b"SSLBUF\x01garbage\xf5\x01", 0).unwrap();
    segment.write_at(b"\xf5\x01\xff\xff\x00\x00", GIB).unwrap();
    // And 8 MiB of real (not sparse) garbage.
    segment.write_at(&vec![b'z'; 8 << 20], GIB / 2).unwrap();
    let consumed = File::create(dir.path().join("sockstatlog.consumed")).unwrap();
    consumed.set_len(2 * GIB).unwrap();

    let before = CURRENT.load(Ordering::SeqCst);
    PEAK.store(before, Ordering::SeqCst);
    let buffer = FileBuffer::open(dir.path(), FileBufferOptions::default()).unwrap();
    assert!(buffer.all_lines().unwrap().is_empty());
    buffer.append(&["{\"after\":1}".to_string()]).unwrap();
    let lines = buffer.all_lines().unwrap();
    let stats = buffer.stats();
    let peak = PEAK.load(Ordering::SeqCst) - before;
    drop(buffer);

    eprintln!("peak heap above the start: {peak} bytes");
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].text, "{\"after\":1}");
    assert!(stats.corrupt_lines_skipped >= 1, "{stats:?}");
    assert!(peak < 1 << 20, "peak heap {peak} bytes");
}
