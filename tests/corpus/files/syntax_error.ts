// Half-written TypeScript: unbalanced generics, a missing brace, a dangling arrow.
export interface Order {
  id: string;
  total: number;
}

export function total(orders: Order[]): number {
  return orders.reduce((sum, o) => sum + o.total, 0);
}

export function broken<T extends Array<Map<string, T>(value: T): T {
  const handler = (x: number) =>
  return value;

export class Unfinished {
  method(a: string, b: number: void {
    if (a) { return
  }
}

export const afterTheErrors = (x: number): number => x * 2;
