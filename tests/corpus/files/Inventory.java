package shop;

import java.util.ArrayList;
import java.util.List;

/** A small valid Java file used as a fuzz seed. */
public class Inventory<T extends Comparable<T>> {
    private final List<T> items = new ArrayList<>();

    public Inventory() {}

    public Inventory(List<T> initial) {
        items.addAll(initial);
    }

    public void add(T item) {
        items.add(item);
    }

    public T max() {
        T best = null;
        for (T item : items) {
            if (best == null || item.compareTo(best) > 0) {
                best = item;
            }
        }
        return best;
    }

    interface Visitor<R> {
        R visit(Object o);
    }
}
