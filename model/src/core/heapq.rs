//! Python's `heapq`, transcribed: the loop's timer heap must pop equal deadlines in the
//! very order CPython does, and that order is a property of this algorithm (it is not
//! FIFO: push A to G at one deadline and CPython pops A C F G E B D).
//!
//! Source: CPython `Lib/heapq.py` (`heappush`, `heappop`, `_siftdown`, `_siftup`,
//! `heapify`); items compare with `<` only, like `TimerHandle.__lt__` on `_when`.

/// `heappush(heap, item)`.
pub fn push<T>(heap: &mut Vec<T>, item: T, lt: impl Fn(&T, &T) -> bool) {
    heap.push(item);
    let last = heap.len() - 1;
    sift_down(heap, 0, last, &lt);
}

/// `heappop(heap)`.
pub fn pop<T>(heap: &mut Vec<T>, lt: impl Fn(&T, &T) -> bool) -> Option<T> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let first = std::mem::replace(&mut heap[0], last);
    sift_up(heap, 0, &lt);
    Some(first)
}

/// `heapify(x)`.
pub fn heapify<T>(heap: &mut [T], lt: impl Fn(&T, &T) -> bool) {
    let n = heap.len();
    for i in (0..n / 2).rev() {
        sift_up(heap, i, &lt);
    }
}

/// `_siftdown(heap, startpos, pos)`: move the item at `pos` up towards `start`.
fn sift_down<T>(heap: &mut [T], start: usize, mut pos: usize, lt: &impl Fn(&T, &T) -> bool) {
    while pos > start {
        let parent = (pos - 1) >> 1;
        if lt(&heap[pos], &heap[parent]) {
            heap.swap(pos, parent);
            pos = parent;
        } else {
            break;
        }
    }
}

/// `_siftup(heap, pos)`: bubble the smaller child up to a leaf, then `_siftdown`.
fn sift_up<T>(heap: &mut [T], mut pos: usize, lt: &impl Fn(&T, &T) -> bool) {
    let end = heap.len();
    let start = pos;
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end && !lt(&heap[child], &heap[right]) {
            child = right;
        }
        heap.swap(pos, child);
        pos = child;
        child = 2 * pos + 1;
    }
    sift_down(heap, start, pos, lt);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(a: &(u32, char), b: &(u32, char)) -> bool {
        a.0 < b.0
    }

    #[test]
    fn equal_keys_pop_in_cpython_order_not_fifo() {
        // CPython 3.11: pushing A..G with equal keys (compared with `<` only) and
        // popping them all gives "ACFGEBD".
        let mut h = Vec::new();
        for c in "ABCDEFG".chars() {
            push(&mut h, (1, c), lt);
        }
        let order: String = std::iter::from_fn(|| pop(&mut h, lt))
            .map(|x| x.1)
            .collect();
        assert_eq!(order, "ACFGEBD");
    }

    #[test]
    fn pops_in_key_order() {
        let mut h = Vec::new();
        for (k, c) in [(5, 'a'), (1, 'b'), (3, 'c'), (2, 'd'), (4, 'e')] {
            push(&mut h, (k, c), lt);
        }
        let keys: Vec<u32> = std::iter::from_fn(|| pop(&mut h, lt))
            .map(|x| x.0)
            .collect();
        assert_eq!(keys, vec![1, 2, 3, 4, 5]);
    }

    #[test]
    fn heapify_makes_a_heap() {
        let mut v = vec![(3, 'a'), (1, 'b'), (2, 'c')];
        heapify(&mut v, lt);
        assert_eq!(v[0].0, 1);
    }
}
