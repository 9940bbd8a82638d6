// Half-written JavaScript.
export function total(items) {
  return items.reduce((sum, item) => sum + item.price, 0);
}

export function broken(a, b {
  const x = [1, 2, 3;
  return a + ;
}

class Unfinished {
  method() {
    return { key: 
}

export const afterTheErrors = (x) => x * 2;
