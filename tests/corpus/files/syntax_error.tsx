import React from "react";

export function Row({ label }: { label: string }) {
  return <li className="row">{label}</li>;
}

export function Broken({ items }: { items: string[] }) {
  return (
    <ul>
      {items.map((item) => <Row label={item} key={item}>)}
      <div unclosed="yes"
    </ul>
  );

export const AfterTheErrors = () => <span>fine</span>;
