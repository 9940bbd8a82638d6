package orders;

import java.util.List;

public class Processor {
    public int total(List<Integer> prices) {
        int sum = 0;
        for (int p : prices) { sum += p; }
        return sum;
    }

    public int broken(int a, String b {
        if (a > ) {
            return b.length(
        }

    class Unfinished extends {
        void method() { return }
    }

    public int afterTheErrors(int x) { return x * 2; }
}
