import{s as r}from"../chunks/9bY9L47j.js";import{y as t}from"../chunks/CFlT7y1N.js";export{t as load_css,r as start};
