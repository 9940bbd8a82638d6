//! Half-written Rust.

pub fn total(prices: &[u32]) -> u32 {
    prices.iter().sum()
}

pub fn broken(a: u32, b: &str -> u32 {
    let x = match a {
        0 => 1,
        _ =>
    };
    x +
}

impl Unfinished for {
    fn method(&self) -> Option<Vec<u32> { None }
}

pub fn after_the_errors(x: u32) -> u32 { x * 2 }
