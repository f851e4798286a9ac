//! Redis's partial sort (`pqsort`): the Bentley–McIlroy quicksort ("Engineering a Sort
//! Function", 1993) that only descends into partitions overlapping a wanted index range.
//! GEOSEARCH uses it when COUNT keeps fewer results than it found; members at equal distance
//! come out in the order this exact partitioning leaves them, so it is reproduced step by step
//! (pivot choice, three-way partition with equal keys parked at both ends, insertion sort below
//! seven elements).

use std::cmp::Ordering;

/// Sorts `v` enough that positions `lo..=hi` hold what a full sort would put there, in the
/// order Redis's `pqsort` leaves them. `cmp` need not be a total order; no input panics.
pub fn pqsort<T>(v: &mut [T], lo: usize, hi: usize, cmp: &impl Fn(&T, &T) -> Ordering) {
    sort_range(v, 0, v.len(), (lo, hi), cmp);
}

/// Sorts `v[start..start + n]`; `wanted` holds indices of the whole of `v`.
fn sort_range<T>(
    v: &mut [T],
    mut start: usize,
    mut n: usize,
    wanted: (usize, usize),
    cmp: &impl Fn(&T, &T) -> Ordering,
) {
    let (lo, hi) = wanted;
    // A partition `s..s + len` is worth sorting unless the wanted range lies wholly on one side.
    let overlaps = |s: usize, len: usize| {
        let e = s + len - 1;
        !((lo < s && hi < s) || (lo > e && hi > e))
    };
    loop {
        let a = &mut v[start..start + n];
        if n < 7 {
            for m in 1..n {
                let mut l = m;
                while l > 0 && cmp(&a[l - 1], &a[l]) == Ordering::Greater {
                    a.swap(l, l - 1);
                    l -= 1;
                }
            }
            return;
        }
        let mut pm = n / 2;
        if n > 7 {
            let mut pl = 0;
            let mut pn = n - 1;
            if n > 40 {
                let d = n / 8;
                pl = med3(a, pl, pl + d, pl + 2 * d, cmp);
                pm = med3(a, pm - d, pm, pm + d, cmp);
                pn = med3(a, pn - 2 * d, pn - d, pn, cmp);
            }
            pm = med3(a, pl, pm, pn, cmp);
        }
        a.swap(0, pm);
        // a[0] is the pivot; keys equal to it gather at both ends, then move to the middle.
        let (mut pa, mut pb) = (1usize, 1usize);
        let (mut pc, mut pd) = (n - 1, n - 1);
        loop {
            while pb <= pc {
                let c = cmp(&a[pb], &a[0]);
                if c == Ordering::Greater {
                    break;
                }
                if c == Ordering::Equal {
                    a.swap(pa, pb);
                    pa += 1;
                }
                pb += 1;
            }
            while pb <= pc {
                let c = cmp(&a[pc], &a[0]);
                if c == Ordering::Less {
                    break;
                }
                if c == Ordering::Equal {
                    a.swap(pc, pd);
                    pd -= 1;
                }
                pc -= 1;
            }
            if pb > pc {
                break;
            }
            a.swap(pb, pc);
            pb += 1;
            pc -= 1;
        }
        let r = pa.min(pb - pa);
        swap_blocks(a, 0, pb - r, r);
        let r = (pd - pc).min(n - 1 - pd);
        swap_blocks(a, pb, n - r, r);
        let (left, right) = (pb - pa, pd - pc);
        if left > 1 && overlaps(start, left) {
            sort_range(v, start, left, wanted, cmp);
        }
        if right > 1 && overlaps(start + n - right, right) {
            start += n - right;
            n = right;
            continue;
        }
        return;
    }
}

/// The index of the median of three, by Bentley and McIlroy's comparisons.
fn med3<T>(a: &[T], i: usize, j: usize, k: usize, cmp: &impl Fn(&T, &T) -> Ordering) -> usize {
    if cmp(&a[i], &a[j]) == Ordering::Less {
        if cmp(&a[j], &a[k]) == Ordering::Less {
            j
        } else if cmp(&a[i], &a[k]) == Ordering::Less {
            k
        } else {
            i
        }
    } else if cmp(&a[j], &a[k]) == Ordering::Greater {
        j
    } else if cmp(&a[i], &a[k]) == Ordering::Less {
        i
    } else {
        k
    }
}

/// Swaps `a[x..x + n]` with `a[y..y + n]` element by element, front to back.
fn swap_blocks<T>(a: &mut [T], x: usize, y: usize, n: usize) {
    for i in 0..n {
        a.swap(x + i, y + i);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_key(a: &(u32, u32), b: &(u32, u32)) -> Ordering {
        a.0.cmp(&b.0)
    }

    #[test]
    fn the_wanted_prefix_is_sorted() {
        let mut seed = 12345u64;
        for len in [0usize, 1, 5, 7, 8, 30, 41, 100, 1000] {
            let mut v: Vec<(u32, u32)> = (0..len as u32)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 40) as u32 % 50, i)
                })
                .collect();
            let mut full = v.clone();
            full.sort_by(by_key);
            let k = len.min(10);
            if k == 0 {
                continue;
            }
            pqsort(&mut v, 0, k - 1, &by_key);
            let keys: Vec<u32> = v[..k].iter().map(|p| p.0).collect();
            let want: Vec<u32> = full[..k].iter().map(|p| p.0).collect();
            assert_eq!(keys, want, "len {len}");
            // The whole range sorts everything.
            pqsort(&mut v, 0, len - 1, &by_key);
            assert!(v.windows(2).all(|w| w[0].0 <= w[1].0));
        }
    }

    #[test]
    fn inconsistent_comparisons_do_not_panic() {
        let mut v: Vec<f64> = (0..200)
            .map(|i| if i % 3 == 0 { f64::NAN } else { i as f64 })
            .collect();
        let redis_cmp = |a: &f64, b: &f64| {
            if a > b {
                Ordering::Greater
            } else if a == b {
                Ordering::Equal
            } else {
                Ordering::Less
            }
        };
        pqsort(&mut v, 0, 9, &redis_cmp);
        assert_eq!(v.len(), 200);
    }
}
