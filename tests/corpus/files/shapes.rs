//! A small valid Rust file used as a fuzz seed.

pub trait Area {
    fn area(&self) -> f64;
}

pub struct Rect {
    pub w: f64,
    pub h: f64,
}

impl Area for Rect {
    fn area(&self) -> f64 {
        self.w * self.h
    }
}

pub fn total<T: Area>(shapes: &[T]) -> f64 {
    shapes.iter().map(|s| s.area()).sum()
}

mod inner {
    pub(crate) fn helper(x: i32) -> Option<i32> {
        if x > 0 { Some(x) } else { None }
    }
}
