import { useState } from "react";

export interface Item {
  name: string;
  price: number;
}

/** A small valid TSX file used as a fuzz seed. */
export function Cart({ items }: { items: Item[] }) {
  const [open, setOpen] = useState<boolean>(false);
  const total = items.reduce((sum, item) => sum + item.price, 0);
  return (
    <div onClick={() => setOpen(!open)}>
      {open && items.map((item) => <span key={item.name}>{item.name}</span>)}
      <b>{total.toFixed(2)}</b>
    </div>
  );
}

export default class Store<T extends Item> {
  private items: T[] = [];
  add(item: T): this {
    this.items.push(item);
    return this;
  }
}
